//===- WeightBinder.cpp - checkpoint tensors -> packed weights ------------===//
#include "runtime/weights/WeightBinder.h"
#include "runtime/support/Error.h"

#include <fmt/ranges.h>

namespace llmc::rt {

namespace {

/// Writes one checkpoint tensor, checked against `r`, to `out` as f32.
void bindTensor(const WeightRecipe &r, const SafeTensors &checkpoint,
                float *out) {
  const TensorView *t = nullptr;
  for (const std::string &s : r.sources)
    if ((t = checkpoint.find(s)))
      break;
  if (!t)
    fail("{}: tensor '{}' not found (looked for {})", checkpoint.describe(),
         r.name, fmt::join(r.sources, ", "));
  if (t->dtype != "F32" && t->dtype != "F16" && t->dtype != "BF16")
    fail("{}: tensor '{}': dtype {} is not supported (F32, F16, BF16)", t->file,
         t->name, t->dtype);
  std::vector<int64_t> expected = r.shape;
  bool transpose = r.transform == "transpose";
  if (transpose) {
    if (expected.size() != 2)
      fail("{}: weight '{}': transpose needs a 2-D tensor", t->file, r.name);
    std::swap(expected[0], expected[1]);
  }
  if (t->shape != expected)
    fail("{}: tensor '{}': shape [{}] does not match the artifact's [{}]{}",
         t->file, t->name, fmt::join(t->shape, ", "), fmt::join(expected, ", "),
         transpose ? " (stored transposed)" : "");
  size_t es = dtypeSize(t->dtype);
  if (!transpose) {
    size_t n = t->bytes / es;
    for (size_t i = 0; i < n; ++i)
      out[i] = loadAsFloat(t->dtype, t->data + i * es);
    return;
  }
  // Stored [in, out]; packed [out, in].
  int64_t rows = t->shape[0], cols = t->shape[1];
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      out[j * rows + i] = loadAsFloat(t->dtype, t->data + (i * cols + j) * es);
}

} // namespace

AlignedBuffer bindWeights(const Manifest &manifest,
                          const SafeTensors &checkpoint) {
  AlignedBuffer buf(manifest.weightsBytes);
  for (const WeightRecipe &r : manifest.weights) {
    auto *out = reinterpret_cast<float *>(buf.data() + r.offset);
    if (r.transform != "concat") {
      bindTensor(r, checkpoint, out);
      continue;
    }
    // Merged projections: the parts one after another along dimension 0.
    for (const WeightRecipe &part : r.parts) {
      bindTensor(part, checkpoint, out);
      out += part.elements();
    }
  }
  return buf;
}

} // namespace llmc::rt
