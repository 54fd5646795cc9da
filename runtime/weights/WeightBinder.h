//===- WeightBinder.h - checkpoint tensors -> packed weights ----*- C++ -*-===//
#ifndef LLMC_RUNTIME_WEIGHTS_WEIGHTBINDER_H
#define LLMC_RUNTIME_WEIGHTS_WEIGHTBINDER_H

#include "runtime/support/AlignedBuffer.h"
#include "runtime/weights/SafeTensors.h"
#include "schema/Artifact.h"

namespace llmc::rt {

/// Packs the weights the manifest's recipes name into one f32 buffer of
/// `manifest.weightsBytes`, checking every source tensor's dtype and shape
/// first. Throws rt::Error naming the tensor and the file.
AlignedBuffer bindWeights(const schema::Manifest &manifest,
                          const SafeTensors &checkpoint);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_WEIGHTS_WEIGHTBINDER_H
