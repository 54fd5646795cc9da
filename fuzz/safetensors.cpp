//===- safetensors.cpp - fuzz the safetensors reader ----------------------===//
//
// Any file: it is read, or refused with rt::Error; every tensor it accepts
// lies inside the file (each element is read back).
//
//===----------------------------------------------------------------------===//
#include "runtime/weights/SafeTensors.h"
#include "FuzzSupport.h"
#include "runtime/support/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = llmc::fuzz::asFile(data, size, "model.safetensors");
  try {
    llmc::rt::SafeTensors st = llmc::rt::SafeTensors::openFile(path);
    for (const std::string &name : st.names()) {
      const llmc::rt::TensorView *t = st.find(name);
      if (t->dtype != "F32" && t->dtype != "F16" && t->dtype != "BF16")
        continue;
      size_t width = llmc::rt::dtypeSize(t->dtype);
      for (size_t i = 0; i + width <= t->bytes; i += width)
        (void)llmc::rt::loadAsFloat(t->dtype, t->data + i);
    }
  } catch (const llmc::rt::Error &) {
  }
  return 0;
}
