//===- Artifact.h - load and check an llmc artifact -------------*- C++ -*-===//
//
// Reads manifest.json through the shared schema (schema/ArtifactJson.h),
// checks that its plan is consistent with its own sizes (every buffer of
// every launch within its space, of the right type), and checks the program
// file's fingerprint. It knows nothing of how a device loads the program.
// See docs/artifact.md.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_ARTIFACT_ARTIFACT_H
#define LLMC_RUNTIME_ARTIFACT_ARTIFACT_H

#include "schema/Artifact.h"

#include <string>

namespace llmc::rt {

using schema::Manifest;

class Artifact {
public:
  /// Loads `dir` as seen by `rank` (a parallel artifact's manifest()
  /// holds that rank's plan, weights and caches); throws rt::Error naming
  /// the file and field on any problem.
  explicit Artifact(const std::string &dir, int64_t rank = 0);

  const Manifest &manifest() const { return manifest_; }
  const std::string &directory() const { return dir_; }
  /// The program file's path (its fingerprint checked).
  std::string programPath() const;
  /// schema::bindingDigest of manifest.json as read: the program must name
  /// the same (the device that loads it checks).
  const std::string &bindingDigest() const { return digest_; }
  /// Throws rt::Error unless `programDigest` (what the program says it was
  /// built for; empty: nothing) is bindingDigest().
  void checkBinding(const std::string &programDigest) const;

private:
  std::string dir_;
  Manifest manifest_;
  std::string digest_;
};

/// Manifest parsing and checking alone (for tests): `path` is used in
/// messages.
Manifest parseManifest(const std::string &text, const std::string &path);

/// Checks the plan of `m` against its own sizes; throws rt::Error naming
/// `path` and the entry.
void checkPlan(const Manifest &m, const std::string &path);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_ARTIFACT_ARTIFACT_H
