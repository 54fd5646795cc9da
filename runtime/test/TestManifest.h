//===- TestManifest.h - a small, valid manifest built by hand ---*- C++ -*-===//
//
// A step the tests can run without a compiler: vocabulary 8, hidden 2, one
// layer (a K and a V cache of 4-token blocks, one KV head of 2 channels),
// and a plan of three kernels a test supplies as C++ functions:
//   embed   (weights table [8, 2], token_ids, arena [tokens, 2]) over tokens
//   cache   (kv 0, arena [tokens, 2], slot_mapping)                over tokens
//   logits  (kv 0, block_tables, seq_ids, positions, logits_indices,
//            logits [logits_rows, 8])                               over 8
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_TEST_TESTMANIFEST_H
#define LLMC_RUNTIME_TEST_TESTMANIFEST_H

#include "schema/Artifact.h"

namespace llmc::test {

using namespace schema;

inline BufferRef buffer(BufferSpace space, std::vector<Dim> shape,
                        DType dtype = DType::F32) {
  BufferRef b;
  b.space = space;
  b.shape = std::move(shape);
  b.dtype = dtype;
  return b;
}

inline BufferRef input(StepInput which, std::vector<Dim> shape) {
  BufferRef b = buffer(BufferSpace::Input, std::move(shape), DType::I32);
  b.input = which;
  return b;
}

inline Manifest tinyManifest() {
  Manifest m;
  m.cpu = "x86-64";
  m.maxBatchTokens = 8;
  m.maxSeqLen = 16;
  m.vocabSize = 8;
  m.kvCaches = {KvCache{4, 1, 2, DType::F32}, KvCache{4, 1, 2, DType::F32}};
  WeightRecipe table;
  table.name = "table";
  table.sources = {"table"};
  table.shape = {8, 2};
  m.weights = {table};
  m.weightsBytes = 64;
  m.arenaBytes = 64;
  m.program.library = "libkernels.so";
  m.program.kernels = {"embed", "cache", "logits"};
  Dim T = Dim::of(StepDim::Tokens), R = Dim::of(StepDim::LogitsRows);

  PlanEntry embed;
  embed.kernel = "embed";
  embed.extent = Extent{1, StepDim::Tokens};
  embed.args = {buffer(BufferSpace::Weights, {Dim::of(8), Dim::of(2)}),
                input(StepInput::TokenIds, {T}),
                buffer(BufferSpace::Arena, {T, Dim::of(2)})};
  PlanEntry cache;
  cache.kernel = "cache";
  cache.extent = Extent{1, StepDim::Tokens};
  BufferRef kv = buffer(BufferSpace::Kv, {Dim::of(StepDim::KvBlocks),
                                          Dim::of(4), Dim::of(1), Dim::of(2)});
  cache.args = {kv, buffer(BufferSpace::Arena, {T, Dim::of(2)}),
                input(StepInput::SlotMapping, {T})};
  PlanEntry logits;
  logits.kernel = "logits";
  logits.extent = Extent{8, std::nullopt};
  logits.args = {kv,
                 input(StepInput::BlockTables,
                       {Dim::of(StepDim::Seqs), Dim::of(StepDim::MaxBlocks)}),
                 input(StepInput::SeqIds, {T}),
                 input(StepInput::Positions, {T}),
                 input(StepInput::LogitsIndices, {R}),
                 buffer(BufferSpace::Output, {R, Dim::of(8)})};
  m.plan = {embed, cache, logits};
  return m;
}

} // namespace llmc::test

#endif // LLMC_RUNTIME_TEST_TESTMANIFEST_H
