//===- manifest.cpp - fuzz manifest.json reading and plan checks ----------===//
//
// Any text: parsed and every rank's plan checked, or refused with
// rt::Error; the binding digest of what parses is computed too.
//
//===----------------------------------------------------------------------===//
#include "runtime/artifact/Artifact.h"
#include "runtime/support/Error.h"
#include "schema/ArtifactJson.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  try {
    llmc::schema::Manifest m = llmc::rt::parseManifest(text, "manifest.json");
    for (size_t r = 0; r < m.ranks.size(); ++r)
      llmc::rt::checkPlan(m.forRank(static_cast<int64_t>(r)), "manifest.json");
    (void)llmc::schema::bindingDigest(m);
    (void)m.kvBytesPerBlock();
  } catch (const llmc::rt::Error &) {
  }
  return 0;
}
