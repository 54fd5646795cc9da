//===- SafeTensorsTest.cpp - checkpoint parsing and its errors ------------===//
#include "runtime/weights/SafeTensors.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include <cstring>
#include <filesystem>
#include <fstream>

using llmc::rt::SafeTensors;

namespace {

std::string writeFile(const std::string &name, const std::string &header,
                      const std::string &data, int64_t claimLen = -1) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream out(path, std::ios::binary);
  uint64_t len = claimLen >= 0 ? claimLen : header.size();
  out.write(reinterpret_cast<const char *>(&len), 8);
  out << header << data;
  return path;
}

std::string floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.begin(), s.size());
  return s;
}

std::string errorOf(const std::string &path) {
  try {
    SafeTensors::openFile(path);
  } catch (const llmc::rt::Error &e) {
    return e.what();
  }
  return "";
}

TEST(SafeTensors, ReadsTensors) {
  std::string path = writeFile(
      "ok.safetensors",
      R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
          "h": {"dtype": "BF16", "shape": [1], "data_offsets": [16, 18]},
          "__metadata__": {"format": "pt"}})",
      floats({1, 2, 3, 4}) + std::string("\x80\x3f", 2));
  SafeTensors st = SafeTensors::openFile(path);
  const auto *w = st.find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(llmc::rt::loadAsFloat("F32", w->data + 12), 4.0f);
  const auto *h = st.find("h");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(llmc::rt::loadAsFloat("BF16", h->data), 1.0f);
  EXPECT_EQ(st.find("missing"), nullptr);
}

TEST(SafeTensors, HalfPrecisionWidening) {
  uint8_t one[2] = {0x00, 0x3c}, negTwo[2] = {0x00, 0xc0},
          tiny[2] = {0x01, 0x00};
  EXPECT_EQ(llmc::rt::loadAsFloat("F16", one), 1.0f);
  EXPECT_EQ(llmc::rt::loadAsFloat("F16", negTwo), -2.0f);
  EXPECT_FLOAT_EQ(llmc::rt::loadAsFloat("F16", tiny), 5.9604645e-8f);
}

float bitsToFloat(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

/// Narrowing as IEEE round-to-nearest-even, checked by its definition over
/// every value of the narrow type: each value round-trips; the midpoint of
/// two neighbours goes to the one with an even last bit, and a hair either
/// side of it to the nearer one. `widen(h)` is exact; midpoints of
/// neighbours are floats exactly (11 and 8 bits of precision < 24).
template <typename Widen, typename Narrow>
void checkRoundToNearestEven(Widen widen, Narrow narrow, uint16_t maxFinite) {
  for (uint32_t sign : {0u, 0x8000u}) {
    for (uint32_t m = 0; m <= maxFinite; ++m) {
      uint16_t h = static_cast<uint16_t>(sign | m);
      float v = widen(h);
      ASSERT_EQ(narrow(v), h) << "value " << v;
      if (m == maxFinite)
        break;
      uint16_t next = static_cast<uint16_t>(h + 1);
      float mid = static_cast<float>(
          (static_cast<double>(v) + static_cast<double>(widen(next))) / 2);
      uint16_t even = (h & 1) ? next : h;
      ASSERT_EQ(narrow(mid), even) << "midpoint " << mid;
      float below = std::nextafter(mid, v),
            above = std::nextafter(mid, 2 * mid);
      if (m == 0 && sign)
        above = std::nextafter(mid, -1.0f);
      ASSERT_EQ(narrow(below), h) << "below " << mid;
      ASSERT_EQ(narrow(above), next) << "above " << mid;
    }
  }
}

TEST(SafeTensors, NarrowingToHalfRoundsToNearestEven) {
  checkRoundToNearestEven(llmc::rt::halfToFloat, llmc::rt::floatToHalf, 0x7bff);
  // Past the largest half (65504): up to the midpoint with infinity
  // (65520, exclusive) it rounds down, from there to infinity.
  EXPECT_EQ(llmc::rt::floatToHalf(65519.99f), 0x7bff);
  EXPECT_EQ(llmc::rt::floatToHalf(65520.0f), 0x7c00);
  EXPECT_EQ(llmc::rt::floatToHalf(-1e30f), 0xfc00);
  EXPECT_EQ(llmc::rt::floatToHalf(bitsToFloat(0x7f800000)), 0x7c00);
  uint16_t nan = llmc::rt::floatToHalf(std::nanf(""));
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x3ff, 0);
  // Below half the smallest subnormal (2^-25): zero, sign kept.
  EXPECT_EQ(llmc::rt::floatToHalf(1e-9f), 0);
  EXPECT_EQ(llmc::rt::floatToHalf(-1e-9f), 0x8000);
}

TEST(SafeTensors, NarrowingToBFloat16RoundsToNearestEven) {
  auto widen = [](uint16_t h) {
    return bitsToFloat(static_cast<uint32_t>(h) << 16);
  };
  checkRoundToNearestEven(widen, llmc::rt::floatToBFloat16, 0x7f7f);
  EXPECT_EQ(llmc::rt::floatToBFloat16(bitsToFloat(0x7f7fffff)), 0x7f80);
  uint16_t nan = llmc::rt::floatToBFloat16(bitsToFloat(0x7f800001));
  EXPECT_EQ(nan & 0x7f80, 0x7f80);
  EXPECT_NE(nan & 0x7f, 0);
}

TEST(SafeTensors, TruncatedHeader) {
  std::string path = writeFile("trunc.safetensors", "{}", "", 4096);
  EXPECT_NE(errorOf(path).find("truncated"), std::string::npos)
      << errorOf(path);
}

TEST(SafeTensors, OffsetsPastTheEnd) {
  std::string path = writeFile(
      "past.safetensors",
      R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})",
      floats({1, 2}));
  std::string e = errorOf(path);
  EXPECT_NE(e.find("tensor 'w'"), std::string::npos) << e;
  EXPECT_NE(e.find("run past the end"), std::string::npos) << e;
}

TEST(SafeTensors, SizeDisagreesWithShape) {
  std::string path = writeFile(
      "size.safetensors",
      R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})",
      floats({1, 2}));
  EXPECT_NE(errorOf(path).find("need 12"), std::string::npos) << errorOf(path);
}

TEST(SafeTensors, BadHeaderJson) {
  std::string path = writeFile("json.safetensors", "{not json", "");
  EXPECT_NE(errorOf(path).find("not valid JSON"), std::string::npos);
}

TEST(SafeTensors, TooSmallFile) {
  std::string path = ::testing::TempDir() + "/small.safetensors";
  std::ofstream(path) << "abc";
  EXPECT_NE(errorOf(path).find("no header"), std::string::npos);
}

TEST(SafeTensors, MissingDirectory) {
  EXPECT_THROW(SafeTensors::openDirectory(::testing::TempDir() + "/nothing"),
               llmc::rt::Error);
}

} // namespace

TEST(SafeTensors, TensorsMustTileTheData) {
  // A header length one byte short still parses (the padding is spaces)
  // and would shift every tensor: the tensors no longer cover the data.
  std::string header =
      R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}  )";
  std::string path = writeFile("short.safetensors", header, floats({1, 2}),
                               static_cast<int64_t>(header.size()) - 1);
  EXPECT_NE(errorOf(path).find("the tensors cover 8 bytes of the data but 9 "
                               "follow the header"),
            std::string::npos)
      << errorOf(path);
  // A gap, an overlap.
  struct Case {
    const char *name, *header, *says;
    std::string data;
  };
  for (const Case &c :
       {Case{"gap.safetensors",
             R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                    "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
             "tensor 'b': data_offsets start at 8 but the previous tensor "
             "ends at 4",
             floats({1, 2, 3})},
        Case{"overlap.safetensors",
             R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
             "data_offsets start at 4 but the previous tensor ends at 8",
             floats({1, 2})}}) {
    std::string err = errorOf(writeFile(c.name, c.header, c.data));
    EXPECT_NE(err.find(c.says), std::string::npos) << err;
  }
}

TEST(SafeTensors, ShardsGiveTheTensorsTheIndexNames) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / "sharded";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto shard = [&](const std::string &name, float value) {
    std::string path = writeFile(
        name,
        R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
        floats({value}));
    fs::rename(path, dir / name);
  };
  shard("a.safetensors", 1.0f);
  shard("b.safetensors", 2.0f); // a stray copy of 'w'
  auto index = [&](const std::string &json) {
    std::ofstream(dir / "model.safetensors.index.json") << json;
  };
  index(R"({"weight_map": {"w": "a.safetensors", "v": "b.safetensors"}})");
  // 'v' is named in b.safetensors, which lacks it.
  try {
    SafeTensors::openDirectory(dir.string());
    FAIL() << "a shard without the tensor its index names";
  } catch (const llmc::rt::Error &e) {
    EXPECT_NE(std::string(e.what()).find("the index names tensor 'v' in this "
                                         "file, which does not hold it"),
              std::string::npos)
        << e.what();
  }
  index(R"({"weight_map": {"w": "a.safetensors"}})");
  SafeTensors st = SafeTensors::openDirectory(dir.string());
  ASSERT_NE(st.find("w"), nullptr);
  EXPECT_EQ(llmc::rt::loadAsFloat("F32", st.find("w")->data), 1.0f);
  index(R"({"weight_map": {"w": "../a.safetensors"}})");
  EXPECT_THROW(SafeTensors::openDirectory(dir.string()), llmc::rt::Error);
}

TEST(SafeTensors, ShapesThatOverflowAreRefused) {
  // 2^63 x 2 elements wrap around to 0, matching an empty byte range.
  std::string path = writeFile(
      "wrap.safetensors",
      R"({"w": {"dtype": "F32", "shape": [9223372036854775808, 2], "data_offsets": [0, 0]}})",
      "");
  EXPECT_NE(errorOf(path).find("has more elements than any tensor can"),
            std::string::npos)
      << errorOf(path);
}
