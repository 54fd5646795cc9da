//===- PlanBinding.cpp - one step's arguments for every launch ------------===//
#include "runtime/hal/PlanBinding.h"

namespace llmc::rt {

using schema::BufferSpace;

std::vector<int64_t> kvCacheOffsets(const schema::Manifest &m) {
  std::vector<int64_t> offsets;
  int64_t offset = 0;
  for (const schema::KvCache &c : m.kvCaches) {
    offsets.push_back(offset);
    offset += c.bytesPerBlock();
  }
  return offsets;
}

void bindLaunch(const schema::PlanEntry &e, const StepInputs &in,
                int64_t kvBlocks, const std::vector<int64_t> &cacheOffsets,
                const BufferBases &bases, BoundLaunch &out) {
  out.pointers.resize(e.args.size());
  out.sizes.clear();
  for (size_t a = 0; a < e.args.size(); ++a) {
    const schema::BufferRef &b = e.args[a];
    uint64_t p = 0;
    switch (b.space) {
    case BufferSpace::Weights:
      p = bases.weights + static_cast<uint64_t>(b.offset);
      break;
    case BufferSpace::Arena:
      p = bases.arena + static_cast<uint64_t>(b.offset);
      break;
    case BufferSpace::Kv:
      p = bases.kv + static_cast<uint64_t>(kvBlocks * cacheOffsets.at(b.cache));
      break;
    case BufferSpace::Input:
      p = bases.inputs[static_cast<size_t>(b.input)];
      break;
    case BufferSpace::Output:
      p = bases.output;
      break;
    }
    out.pointers[a] = p;
    for (const schema::Dim &d : b.shape)
      if (d.symbol)
        out.sizes.push_back(in.size(*d.symbol, kvBlocks));
  }
  out.items =
      e.extent.scale * (e.extent.dim ? in.size(*e.extent.dim, kvBlocks) : 1);
}

void packStepInputs(const StepInputs &in, std::vector<int32_t> &packed,
                    std::array<uint64_t, schema::kNumStepInputs> &offsets) {
  packed.clear();
  for (size_t i = 0; i < schema::kNumStepInputs; ++i) {
    auto which = static_cast<schema::StepInput>(i);
    size_t n = which == schema::StepInput::BlockTables ? in.blockTables.size()
               : which == schema::StepInput::LogitsIndices
                   ? in.logitsIndices.size()
                   : in.tokenIds.size();
    packed.resize((packed.size() + 15) / 16 * 16); // 64-byte boundary
    offsets[i] = packed.size() * sizeof(int32_t);
    const int32_t *data = in.data(which);
    packed.insert(packed.end(), data, data + n);
  }
}

std::vector<int64_t> boundShape(const schema::PlanEntry &entry,
                                const BoundLaunch &bound, size_t a) {
  size_t next = 0;
  for (size_t i = 0; i < a; ++i)
    for (const schema::Dim &d : entry.args[i].shape)
      next += d.symbol ? 1 : 0;
  std::vector<int64_t> shape;
  for (const schema::Dim &d : entry.args[a].shape)
    shape.push_back(d.symbol ? bound.sizes.at(next++) : d.size);
  return shape;
}

GatherRuns gatherRuns(const std::vector<int64_t> &shape, int64_t axis) {
  GatherRuns r;
  for (size_t d = 0; d < shape.size(); ++d)
    (static_cast<int64_t>(d) < axis ? r.outer : r.inner) *=
        static_cast<size_t>(shape[d]);
  return r;
}

} // namespace llmc::rt
