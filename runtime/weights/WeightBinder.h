//===- WeightBinder.h - checkpoint tensors -> packed weights ----*- C++ -*-===//
#ifndef LLMC_RUNTIME_WEIGHTS_WEIGHTBINDER_H
#define LLMC_RUNTIME_WEIGHTS_WEIGHTBINDER_H

#include "runtime/artifact/Artifact.h"
#include "runtime/support/AlignedBuffer.h"
#include "runtime/weights/SafeTensors.h"

namespace llmc::rt {

/// Packs the weights the manifest's recipes name into one f32 buffer,
/// checking every source tensor's dtype and shape first. Throws rt::Error
/// naming the tensor and the file.
AlignedBuffer bindWeights(const Manifest &manifest,
                          const SafeTensors &checkpoint);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_WEIGHTS_WEIGHTBINDER_H
