//===- SafeTensors.cpp - memory-mapped safetensors checkpoints ------------===//
#include "runtime/weights/SafeTensors.h"
#include "runtime/support/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

namespace fs = std::filesystem;
using nlohmann::json;

namespace llmc::rt {

size_t dtypeSize(const std::string &d) {
  if (d == "F64" || d == "I64" || d == "U64")
    return 8;
  if (d == "F32" || d == "I32" || d == "U32")
    return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16")
    return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2")
    return 1;
  return 0;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign << 31;
    } else { // subnormal: renormalize
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while (!(man & 0x400));
      bits = (sign << 31) | ((127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 0x1f) {
    bits = (sign << 31) | 0x7f800000 | (man << 13);
  } else {
    bits = (sign << 31) | ((exp - 15 + 127) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, abs = x & 0x7fffffff;
  if (abs > 0x7f800000) // NaN: quiet, with the top payload bits
    return static_cast<uint16_t>(sign | 0x7e00 | ((abs >> 13) & 0x3ff));
  if (abs >= 0x477ff000) // 65520 and up (and infinity) round to infinity
    return static_cast<uint16_t>(sign | 0x7c00);
  if (abs < 0x33000000) // below 2^-25: zero (2^-25 itself ties to even 0)
    return static_cast<uint16_t>(sign);
  uint32_t half, rem, mid;
  if (abs < 0x38800000) { // a half subnormal: m * 2^-24
    uint32_t shift = 126 - (abs >> 23);
    uint32_t m = (abs & 0x7fffff) | 0x800000;
    half = m >> shift;
    rem = m & ((1u << shift) - 1);
    mid = 1u << (shift - 1);
  } else { // rebias the exponent from 127 to 15
    half = (abs - 0x38000000) >> 13;
    rem = abs & 0x1fff;
    mid = 0x1000;
  }
  if (rem > mid || (rem == mid && (half & 1)))
    ++half; // a carry into the exponent is the right next value
  return static_cast<uint16_t>(sign | half);
}

uint16_t floatToBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

float loadAsFloat(const std::string &dtype, const uint8_t *p) {
  if (dtype == "F32") {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  if (dtype == "BF16") {
    uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  return halfToFloat(h);
}

void SafeTensors::addFile(const std::string &path,
                          const std::set<std::string> *only) {
  auto file = std::make_unique<MappedFile>(path);
  size_t size = file->size();
  if (size < 8)
    fail("{}: truncated safetensors file ({} bytes, no header)", path, size);
  uint64_t headerLen;
  std::memcpy(&headerLen, file->data(), 8);
  if (headerLen > size - 8)
    fail("{}: truncated safetensors file: the header claims {} bytes but "
         "only {} follow",
         path, headerLen, size - 8);
  json header;
  try {
    header = json::parse(file->view().substr(8, headerLen));
  } catch (const json::exception &e) {
    fail("{}: the safetensors header is not valid JSON: {}", path, e.what());
  }
  if (!header.is_object())
    fail("{}: the safetensors header is not a JSON object", path);
  size_t dataStart = 8 + headerLen, dataLen = size - dataStart;
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> spans;
  for (const auto &item : header.items()) {
    const std::string &name = item.key();
    const json &entry = item.value();
    if (name == "__metadata__")
      continue;
    auto bad = [&](const std::string &what) {
      fail("{}: tensor '{}': {}", path, name, what);
    };
    if (!entry.is_object() || !entry.contains("dtype") ||
        !entry.contains("shape") || !entry.contains("data_offsets"))
      bad("needs dtype, shape and data_offsets");
    TensorView t;
    t.name = name;
    t.file = path;
    if (!entry["dtype"].is_string())
      bad("dtype must be a string");
    t.dtype = entry["dtype"].get<std::string>();
    if (!dtypeSize(t.dtype))
      bad("unknown dtype '" + t.dtype + "'");
    const json &shape = entry["shape"], &offs = entry["data_offsets"];
    if (!shape.is_array())
      bad("shape must be a list");
    uint64_t elems = 1;
    for (const json &d : shape) {
      if (!d.is_number_unsigned())
        bad("shape entries must be non-negative integers");
      // A product that wraps around could match a short byte count.
      if (d.get<uint64_t>() > (uint64_t(1) << 48) ||
          __builtin_mul_overflow(elems, d.get<uint64_t>(), &elems) ||
          elems > (uint64_t(1) << 48))
        bad("shape " + shape.dump() +
            " has more elements than any tensor "
            "can");
      t.shape.push_back(d.get<int64_t>());
    }
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() ||
        !offs[1].is_number_unsigned())
      bad("data_offsets must be two non-negative integers");
    uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
    if (begin > end)
      bad(fmt::format("data_offsets [{}, {}] are reversed", begin, end));
    if (end > dataLen)
      bad(fmt::format("data_offsets [{}, {}] run past the end of the data "
                      "({} bytes): the file is truncated or corrupt",
                      begin, end, dataLen));
    if (end - begin != elems * dtypeSize(t.dtype))
      bad(fmt::format("holds {} bytes but {} {} elements need {}", end - begin,
                      elems, t.dtype, elems * dtypeSize(t.dtype)));
    t.data = file->data() + dataStart + begin;
    t.bytes = end - begin;
    spans.emplace_back(begin, end, name);
    // A sharded checkpoint takes each tensor from the shard its index
    // names; a stray copy elsewhere is not read.
    if (!only || only->count(name))
      tensors_[name] = std::move(t);
  }
  // As the reference library requires: the tensors tile the data exactly,
  // in order, with no gap, overlap or trailing bytes. (A header length one
  // byte short still parses, the padding being spaces, and would shift
  // every tensor by a byte.)
  std::sort(spans.begin(), spans.end());
  uint64_t at = 0;
  for (const auto &[begin, end, name] : spans) {
    if (begin != at)
      fail("{}: tensor '{}': data_offsets start at {} but the previous "
           "tensor ends at {} (tensors must tile the data: a corrupt header "
           "or header length)",
           path, name, begin, at);
    at = end;
  }
  if (at != dataLen)
    fail("{}: the tensors cover {} bytes of the data but {} follow the "
         "header (a corrupt header length or trailing bytes)",
         path, at, dataLen);
  if (only)
    for (const std::string &name : *only)
      if (!header.contains(name))
        fail("{}: the index names tensor '{}' in this file, which does not "
             "hold it",
             path, name);
  files_.push_back(std::move(file));
}

SafeTensors SafeTensors::openFile(const std::string &path) {
  SafeTensors st;
  st.addFile(path);
  return st;
}

SafeTensors SafeTensors::openDirectory(const std::string &dir) {
  SafeTensors st;
  fs::path index = fs::path(dir) / "model.safetensors.index.json";
  fs::path single = fs::path(dir) / "model.safetensors";
  if (fs::exists(index)) {
    json j;
    try {
      j = json::parse(readFile(index.string()));
    } catch (const json::exception &e) {
      fail("{}: not valid JSON: {}", index.string(), e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      fail("{}: field 'weight_map': missing or not an object", index.string());
    std::map<std::string, std::set<std::string>> shards; // file -> tensors
    for (auto &[name, file] : j["weight_map"].items()) {
      if (!file.is_string())
        fail("{}: field 'weight_map.{}': expected a file name", index.string(),
             name);
      std::string f = file.get<std::string>();
      if (f.empty() || f.find('/') != std::string::npos || f == "." ||
          f == "..")
        fail("{}: field 'weight_map.{}': '{}' is not a file name in the "
             "checkpoint directory",
             index.string(), name, f);
      shards[f].insert(name);
    }
    for (const auto &[shard, names] : shards)
      st.addFile((fs::path(dir) / shard).string(), &names);
  } else if (fs::exists(single)) {
    st.addFile(single.string());
  } else {
    fail("{}: no model.safetensors or model.safetensors.index.json", dir);
  }
  return st;
}

std::vector<std::string> SafeTensors::names() const {
  std::vector<std::string> out;
  for (const auto &[name, t] : tensors_)
    out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

const TensorView *SafeTensors::find(const std::string &name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::string SafeTensors::describe() const {
  std::string out;
  for (const auto &f : files_)
    out += (out.empty() ? "" : ", ") + f->path();
  return out;
}

} // namespace llmc::rt
