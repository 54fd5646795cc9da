//===- WeightBinder.h - checkpoint tensors -> packed weights ----*- C++ -*-===//
#ifndef LLMC_RUNTIME_WEIGHTS_WEIGHTBINDER_H
#define LLMC_RUNTIME_WEIGHTS_WEIGHTBINDER_H

#include "runtime/support/AlignedBuffer.h"
#include "runtime/weights/SafeTensors.h"
#include "schema/Artifact.h"

#include <functional>

namespace llmc::rt {

struct BindOptions {
  int threads = 1; // converting threads
  /// Called about every 100 ms with (bytes packed, bytes in all).
  std::function<void(int64_t, int64_t)> progress;
};

/// Packs the weights the manifest's recipes name into one buffer of
/// `manifest.weightsBytes`, checking every source tensor's dtype and shape
/// before converting any. Throws rt::Error naming the tensor and the file.
AlignedBuffer bindWeights(const schema::Manifest &manifest,
                          const SafeTensors &checkpoint,
                          const BindOptions &options = {});

} // namespace llmc::rt

#endif // LLMC_RUNTIME_WEIGHTS_WEIGHTBINDER_H
