//===- KernelLibrary.cpp - a CPU artifact's kernels, dlopen'd -------------===//
#include "runtime/hal/cpu/KernelLibrary.h"
#include "runtime/support/Error.h"
#include "schema/Artifact.h"

#include <cstring>
#include <dlfcn.h>
#include <filesystem>

namespace llmc::rt {

KernelLibrary::KernelLibrary(const std::string &path) : path_(path) {
  handle_ =
      ::dlopen(std::filesystem::absolute(path).c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_)
    fail("{}: cannot load: {}", path, ::dlerror());
}

KernelLibrary::~KernelLibrary() {
  if (handle_)
    ::dlclose(handle_);
}

KernelFn KernelLibrary::find(const std::string &name) const {
  std::string symbol = schema::kernelSymbol(name);
  void *fn = ::dlsym(handle_, symbol.c_str());
  if (!fn)
    fail("{}: no entry point '{}' for kernel '{}'", path_, symbol, name);
  return reinterpret_cast<KernelFn>(fn);
}

std::string KernelLibrary::manifestDigest() const {
  const void *p = ::dlsym(handle_, schema::kLibraryDigestSymbol);
  if (!p)
    return "";
  // A fingerprint is 16 hex digits; read no further than that.
  const char *s = static_cast<const char *>(p);
  return std::string(s, strnlen(s, 64));
}

} // namespace llmc::rt
