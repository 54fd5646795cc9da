//===- WeightBinderTest.cpp - recipes packed from a checkpoint ------------===//
#include "runtime/weights/WeightBinder.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

using namespace llmc;
using schema::WeightRecipe;
using schema::WeightTransform;

namespace {

/// A file name of this test's own: ctest runs the tests of this file in
/// parallel processes.
std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "/" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + "." +
         name;
}

/// A safetensors file holding F32 tensors "a" [2, 3] = 0..5, "b" [4] =
/// 10..13, an F16 "h" [2] = {1, -2} and a BF16 "g" [2] = {0.5, 3}.
std::string writeCheckpoint() {
  std::string header =
      R"({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
          "b": {"dtype": "F32", "shape": [4], "data_offsets": [24, 40]},
          "h": {"dtype": "F16", "shape": [2], "data_offsets": [40, 44]},
          "g": {"dtype": "BF16", "shape": [2], "data_offsets": [44, 48]}})";
  std::string data(48, '\0');
  float a[] = {0, 1, 2, 3, 4, 5}, b[] = {10, 11, 12, 13};
  std::memcpy(data.data(), a, 24);
  std::memcpy(data.data() + 24, b, 16);
  uint16_t h[] = {0x3c00, 0xc000}; // 1, -2
  uint16_t g[] = {0x3f00, 0x4040}; // 0.5, 3
  std::memcpy(data.data() + 40, h, 4);
  std::memcpy(data.data() + 44, g, 4);
  std::string path = tempPath("binder.safetensors");
  std::ofstream out(path, std::ios::binary);
  uint64_t len = header.size();
  out.write(reinterpret_cast<const char *>(&len), 8);
  out << header << data;
  return path;
}

WeightRecipe recipe(std::string name, std::vector<int64_t> shape,
                    WeightTransform t = WeightTransform::None) {
  WeightRecipe r;
  r.sources = {name};
  r.name = std::move(name);
  r.shape = std::move(shape);
  r.transform = t;
  return r;
}

std::vector<float> packed(const rt::AlignedBuffer &buf, int64_t offset,
                          int64_t n) {
  std::vector<float> out(n);
  std::memcpy(out.data(), buf.data() + offset, n * 4);
  return out;
}

schema::Manifest manifestOf(std::vector<WeightRecipe> recipes) {
  schema::Manifest m;
  int64_t offset = 0;
  for (WeightRecipe &r : recipes) {
    r.offset = offset;
    offset += schema::alignUp(r.bytes());
  }
  m.weights = std::move(recipes);
  m.weightsBytes = offset;
  return m;
}

TEST(WeightBinder, PacksTransposesAndWidens) {
  rt::SafeTensors st = rt::SafeTensors::openFile(writeCheckpoint());
  WeightRecipe missingFirst = recipe("b", {4});
  missingFirst.sources = {"model.b", "b"};
  schema::Manifest m = manifestOf(
      {recipe("a", {2, 3}), recipe("a", {3, 2}, WeightTransform::Transpose),
       missingFirst, recipe("h", {2}), recipe("g", {2})});
  rt::AlignedBuffer buf = rt::bindWeights(m, st);
  ASSERT_EQ(static_cast<int64_t>(buf.size()), m.weightsBytes);
  EXPECT_EQ(packed(buf, m.weights[0].offset, 6),
            (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(packed(buf, m.weights[1].offset, 6),
            (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(packed(buf, m.weights[2].offset, 4),
            (std::vector<float>{10, 11, 12, 13}));
  EXPECT_EQ(packed(buf, m.weights[3].offset, 2), (std::vector<float>{1, -2}));
  EXPECT_EQ(packed(buf, m.weights[4].offset, 2), (std::vector<float>{0.5, 3}));
}

/// A concat: "a" as is, then the first row of "a" (a shard of a part).
WeightRecipe aThenItsFirstRow() {
  WeightRecipe firstRow = recipe("a", {1, 3});
  firstRow.shard = schema::Shard{0, 0, 2};
  WeightRecipe c;
  c.name = "a+a0";
  c.transform = WeightTransform::Concat;
  c.shape = {3, 3};
  c.parts = {recipe("a", {2, 3}), firstRow};
  return c;
}

TEST(WeightBinder, StacksConcatParts) {
  rt::SafeTensors st = rt::SafeTensors::openFile(writeCheckpoint());
  WeightRecipe c = aThenItsFirstRow();
  schema::Manifest m = manifestOf({c});
  rt::AlignedBuffer buf = rt::bindWeights(m, st);
  EXPECT_EQ(packed(buf, 0, 9), (std::vector<float>{0, 1, 2, 3, 4, 5, 0, 1, 2}));
}

TEST(WeightBinder, TakesShards) {
  rt::SafeTensors st = rt::SafeTensors::openFile(writeCheckpoint());
  // Rows: "a" is [2, 3]; part 1 of 2 along axis 0 is its second row.
  WeightRecipe row = recipe("a", {1, 3});
  row.shard = schema::Shard{0, 1, 2};
  // Columns of the transposed tensor [3, 2]: part 0 of 2 along axis 1.
  WeightRecipe col = recipe("a", {3, 1}, WeightTransform::Transpose);
  col.shard = schema::Shard{1, 0, 2};
  // The second half of "b" [4].
  WeightRecipe half = recipe("b", {2});
  half.shard = schema::Shard{0, 1, 2};
  schema::Manifest m = manifestOf({row, col, half});
  rt::AlignedBuffer buf = rt::bindWeights(m, st);
  EXPECT_EQ(packed(buf, m.weights[0].offset, 3), (std::vector<float>{3, 4, 5}));
  EXPECT_EQ(packed(buf, m.weights[1].offset, 3), (std::vector<float>{0, 1, 2}));
  EXPECT_EQ(packed(buf, m.weights[2].offset, 2), (std::vector<float>{12, 13}));
}

template <typename T>
std::vector<T> packedAs(const rt::AlignedBuffer &buf, int64_t offset,
                        int64_t n) {
  std::vector<T> out(n);
  std::memcpy(out.data(), buf.data() + offset, n * sizeof(T));
  return out;
}

WeightRecipe narrow(WeightRecipe r, schema::DType d) {
  r.dtype = d;
  for (WeightRecipe &p : r.parts)
    p.dtype = d;
  return r;
}

TEST(WeightBinder, NarrowsToBF16AndF16) {
  rt::SafeTensors st = rt::SafeTensors::openFile(writeCheckpoint());
  using schema::DType;
  // F32 rounded (1 + 2^-8 + 2^-9 is past bf16's midpoint: it rounds up),
  // transposed; F16 and BF16 copied or converted.
  schema::Manifest m = manifestOf(
      {narrow(recipe("a", {3, 2}, WeightTransform::Transpose), DType::BF16),
       narrow(recipe("a", {2, 3}), DType::F16),
       narrow(recipe("h", {2}), DType::F16),
       narrow(recipe("g", {2}), DType::BF16),
       narrow(recipe("h", {2}), DType::BF16),
       narrow(recipe("g", {2}), DType::F16)});
  rt::AlignedBuffer buf = rt::bindWeights(m, st);
  // a = 0..5 transposed: 0 3 1 4 2 5 in bf16 bits.
  EXPECT_EQ(
      packedAs<uint16_t>(buf, m.weights[0].offset, 6),
      (std::vector<uint16_t>{0x0000, 0x4040, 0x3f80, 0x4080, 0x4000, 0x40a0}));
  EXPECT_EQ(
      packedAs<uint16_t>(buf, m.weights[1].offset, 6),
      (std::vector<uint16_t>{0x0000, 0x3c00, 0x4000, 0x4200, 0x4400, 0x4500}));
  EXPECT_EQ(packedAs<uint16_t>(buf, m.weights[2].offset, 2),
            (std::vector<uint16_t>{0x3c00, 0xc000}));
  EXPECT_EQ(packedAs<uint16_t>(buf, m.weights[3].offset, 2),
            (std::vector<uint16_t>{0x3f00, 0x4040}));
  EXPECT_EQ(packedAs<uint16_t>(buf, m.weights[4].offset, 2),
            (std::vector<uint16_t>{0x3f80, 0xc000}));
  EXPECT_EQ(packedAs<uint16_t>(buf, m.weights[5].offset, 2),
            (std::vector<uint16_t>{0x3800, 0x4200}));
}

TEST(WeightBinder, NarrowsConcatPartsAtTheirBf16Offsets) {
  rt::SafeTensors st = rt::SafeTensors::openFile(writeCheckpoint());
  WeightRecipe c = aThenItsFirstRow();
  schema::Manifest m = manifestOf({narrow(c, schema::DType::BF16)});
  EXPECT_EQ(m.weights[0].bytes(), 18);
  rt::AlignedBuffer buf = rt::bindWeights(m, st);
  EXPECT_EQ(packedAs<uint16_t>(buf, 0, 9),
            (std::vector<uint16_t>{0x0000, 0x3f80, 0x4000, 0x4040, 0x4080,
                                   0x40a0, 0x0000, 0x3f80, 0x4000}));
}

/// Row `i` of packed int8 rows [rows, k + 4]: its k values and scale.
std::pair<std::vector<int>, float>
int8Row(const rt::AlignedBuffer &buf, int64_t offset, int64_t k, int64_t i) {
  const uint8_t *row = buf.data() + offset + i * (k + 4);
  std::vector<int> q;
  for (int64_t c = 0; c < k; ++c)
    q.push_back(static_cast<int8_t>(row[c]));
  float scale;
  std::memcpy(&scale, row + k, 4);
  return {q, scale};
}

TEST(WeightBinder, QuantizesInt8RowsWithTheirScales) {
  rt::SafeTensors st = rt::SafeTensors::openFile(writeCheckpoint());
  // "a" transposed: rows [0, 3], [1, 4], [2, 5]; each row's scale is its
  // largest magnitude / 127, its values round(w / scale).
  WeightRecipe q = recipe("a", {3, 6}, WeightTransform::Transpose);
  q.dtype = schema::DType::I8;
  // Column 0 of the same rows (one rank's row-parallel shard): the scale
  // still comes from the whole row, as with one rank.
  WeightRecipe shard = recipe("a", {3, 5}, WeightTransform::Transpose);
  shard.dtype = schema::DType::I8;
  shard.shard = schema::Shard{1, 0, 2};
  schema::Manifest m = manifestOf({q, shard});
  rt::AlignedBuffer buf = rt::bindWeights(m, st);
  using Row = std::pair<std::vector<int>, float>;
  EXPECT_EQ(int8Row(buf, m.weights[0].offset, 2, 0),
            (Row{{0, 127}, 3.0f / 127.0f}));
  EXPECT_EQ(int8Row(buf, m.weights[0].offset, 2, 1),
            (Row{{32, 127}, 4.0f / 127.0f})); // 31.75
  EXPECT_EQ(int8Row(buf, m.weights[0].offset, 2, 2),
            (Row{{51, 127}, 5.0f / 127.0f})); // 50.8
  EXPECT_EQ(int8Row(buf, m.weights[1].offset, 1, 0), (Row{{0}, 3.0f / 127.0f}));
  EXPECT_EQ(int8Row(buf, m.weights[1].offset, 1, 1),
            (Row{{32}, 4.0f / 127.0f}));
  EXPECT_EQ(int8Row(buf, m.weights[1].offset, 1, 2),
            (Row{{51}, 5.0f / 127.0f}));
}

std::string bindError(std::vector<WeightRecipe> recipes) {
  rt::SafeTensors st = rt::SafeTensors::openFile(writeCheckpoint());
  try {
    rt::bindWeights(manifestOf(std::move(recipes)), st);
  } catch (const rt::Error &e) {
    return e.what();
  }
  return "";
}

TEST(WeightBinder, NamesTheTensorThatDoesNotFit) {
  std::string file = tempPath("binder.safetensors");
  WeightRecipe missing = recipe("c", {2});
  missing.sources = {"model.c", "c"};
  EXPECT_EQ(bindError({missing}),
            file + ": tensor 'c' not found (looked for model.c, c)");
  EXPECT_EQ(bindError({recipe("a", {3, 2})}),
            file + ": tensor 'a': shape [2, 3] does not match the artifact's "
                   "[3, 2]");
  EXPECT_EQ(bindError({recipe("a", {2, 3}, WeightTransform::Transpose)}),
            file + ": tensor 'a': shape [2, 3] does not match the artifact's "
                   "[3, 2] (stored transposed)");
  WeightRecipe shard = recipe("b", {3});
  shard.shard = schema::Shard{0, 0, 2};
  EXPECT_EQ(bindError({shard}),
            file + ": tensor 'b': shape [4] does not match the artifact's [6]");
}

/// A tensor large enough for many conversion tasks, bound on 3 threads in
/// every layout, against the element-by-element definition.
TEST(WeightBinder, LargeTensorsOnThreadsMatchTheDefinition) {
  const int64_t rows = 1500, cols = 1030; // ~6 MB as f32: several tasks
  std::vector<uint16_t> bf16(rows * cols);
  uint32_t x = 12345;
  for (uint16_t &v : bf16) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<uint16_t>(0x3c00 + (x >> 20)); // finite, varied
  }
  std::string header = R"({"w": {"dtype": "BF16", "shape": [1500, 1030],)"
                       R"( "data_offsets": [0, )" +
                       std::to_string(bf16.size() * 2) + "]}}";
  std::string path = tempPath("large.safetensors");
  {
    std::ofstream out(path, std::ios::binary);
    uint64_t len = header.size();
    out.write(reinterpret_cast<const char *>(&len), 8);
    out << header;
    out.write(reinterpret_cast<const char *>(bf16.data()), bf16.size() * 2);
  }
  rt::SafeTensors st = rt::SafeTensors::openFile(path);
  auto at = [&](int64_t r, int64_t c) {
    uint32_t bits = static_cast<uint32_t>(bf16[r * cols + c]) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  };
  WeightRecipe plain = recipe("w", {rows, cols});
  WeightRecipe t = recipe("w", {cols, rows}, WeightTransform::Transpose);
  WeightRecipe tShard =
      recipe("w", {cols, rows / 3}, WeightTransform::Transpose);
  tShard.shard = schema::Shard{1, 2, 3};
  WeightRecipe rowShard = recipe("w", {rows / 2, cols});
  rowShard.shard = schema::Shard{0, 1, 2};
  schema::Manifest m = manifestOf({plain, t, tShard, rowShard});
  int64_t lastDone = -1, lastTotal = -1;
  rt::BindOptions options;
  options.threads = 3;
  options.progress = [&](int64_t done, int64_t total) {
    EXPECT_GE(done, lastDone);
    lastDone = done;
    lastTotal = total;
  };
  rt::AlignedBuffer buf = rt::bindWeights(m, st, options);
  EXPECT_EQ(lastDone, lastTotal);
  EXPECT_EQ(lastTotal,
            (rows * cols * 2 + cols * (rows / 3) + rows / 2 * cols) * 4);
  auto get = [&](int w, int64_t i) {
    float f;
    std::memcpy(&f, buf.data() + m.weights[w].offset + i * 4, 4);
    return f;
  };
  for (int64_t r = 0; r < rows; r += 7)
    for (int64_t c = 0; c < cols; c += 3) {
      ASSERT_EQ(get(0, r * cols + c), at(r, c));
      ASSERT_EQ(get(1, c * rows + r), at(r, c));
      if (r >= 2 * (rows / 3))
        ASSERT_EQ(get(2, c * (rows / 3) + r - 2 * (rows / 3)), at(r, c));
      if (r >= rows / 2)
        ASSERT_EQ(get(3, (r - rows / 2) * cols + c), at(r, c));
    }
}

} // namespace
