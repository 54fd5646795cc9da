//===- WeightBinder.cpp - checkpoint tensors -> packed weights ------------===//
#include "runtime/weights/WeightBinder.h"
#include "runtime/support/Error.h"

#include <fmt/ranges.h>

namespace llmc::rt {

using schema::WeightRecipe;
using schema::WeightTransform;

namespace {

/// Writes the tensor `r` describes, checked, to `out` as f32: the first
/// source the checkpoint has, transposed when the recipe says so, then the
/// recipe's shard of it.
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
  bool transpose = r.transform == WeightTransform::Transpose;
  // The whole (transformed) tensor the shard is taken from.
  std::vector<int64_t> logical = r.shape;
  if (r.shard)
    logical[r.shard->axis] *= r.shard->count;
  std::vector<int64_t> expected = logical;
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
  if (!transpose && !r.shard) {
    size_t n = t->bytes / es;
    for (size_t i = 0; i < n; ++i)
      out[i] = loadAsFloat(t->dtype, t->data + i * es);
    return;
  }
  // General case: for every packed element, its index in the logical
  // tensor (shifted by the shard), then in the stored one (transposed).
  size_t rank = r.shape.size();
  std::vector<int64_t> storedStrides(rank, 1);
  for (size_t d = rank - 1; d > 0; --d)
    storedStrides[d - 1] = storedStrides[d] * t->shape[d];
  std::vector<int64_t> index(rank, 0);
  int64_t n = r.elements();
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> src = index;
    if (r.shard)
      src[r.shard->axis] += r.shard->index * r.shape[r.shard->axis];
    if (transpose)
      std::swap(src[0], src[1]);
    int64_t flat = 0;
    for (size_t d = 0; d < rank; ++d)
      flat += src[d] * storedStrides[d];
    out[i] = loadAsFloat(t->dtype, t->data + flat * es);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < r.shape[d])
        break;
      index[d] = 0;
    }
  }
}

} // namespace

AlignedBuffer bindWeights(const schema::Manifest &manifest,
                          const SafeTensors &checkpoint) {
  AlignedBuffer buf(manifest.weightsBytes);
  for (const WeightRecipe &r : manifest.weights) {
    if (r.dtype != schema::DType::F32)
      fail("weight '{}': packed dtype {} is not supported (f32)", r.name,
           schema::nameOf(r.dtype));
    auto *out = reinterpret_cast<float *>(buf.data() + r.offset);
    if (r.transform != WeightTransform::Concat) {
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
