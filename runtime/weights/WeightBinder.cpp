//===- WeightBinder.cpp - checkpoint tensors -> packed weights ------------===//
//
// Two phases: every recipe is resolved and checked against the checkpoint
// (source tensor, dtype, shape) before any byte is converted, so a bad
// checkpoint fails at once; then the conversion runs as row-range tasks on
// all threads, straight from the memory-mapped files into a buffer whose
// pages are first touched by the thread that fills them.
//
//===----------------------------------------------------------------------===//
#include "runtime/weights/WeightBinder.h"
#include "runtime/support/Error.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace llmc::rt {

using schema::DType;
using schema::WeightRecipe;
using schema::WeightTransform;

namespace {

enum class Src { F32, F16, BF16 };

/// One packed tensor: where it comes from and how.
struct Job {
  const WeightRecipe *recipe;
  const TensorView *tensor;
  Src dtype;
  size_t offset; // bytes into the packed buffer
  bool transpose;
  std::vector<int64_t> shardOffset; // per packed dimension
  std::shared_ptr<std::atomic<int64_t>> tasksLeft =
      std::make_shared<std::atomic<int64_t>>(0);
  /// int8 rows: the recipe above is the f32 matrix [N, K]; row i goes to
  /// offset + i * (K + 4) as K int8 values and its f32 scale.
  bool int8 = false;
  /// int8 rows split along k (a row-parallel tensor-parallel shard): the
  /// whole rows, whose largest magnitude sets the scale, so every rank
  /// quantizes as one rank would.
  std::shared_ptr<const struct Job> wholeRows;
};

float element(Src dtype, const uint8_t *p) {
  if (dtype == Src::F32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  if (dtype == Src::F16)
    return halfToFloat(h);
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Element `i` of a packed tensor of type `out` set to `v` (rounded to
/// nearest even when narrowed).
void put(DType out, uint8_t *dst, int64_t i, float v) {
  switch (out) {
  case DType::BF16: {
    uint16_t h = floatToBFloat16(v);
    std::memcpy(dst + 2 * i, &h, 2);
    return;
  }
  case DType::F16: {
    uint16_t h = floatToHalf(v);
    std::memcpy(dst + 2 * i, &h, 2);
    return;
  }
  default:
    std::memcpy(dst + 4 * i, &v, 4);
    return;
  }
}

bool sameType(Src in, DType out) {
  return (in == Src::F32 && out == DType::F32) ||
         (in == Src::BF16 && out == DType::BF16) ||
         (in == Src::F16 && out == DType::F16);
}

/// `n` contiguous elements: copied when the types agree, else converted.
void convert(Src in, const uint8_t *src, DType out, uint8_t *dst, int64_t n) {
  if (sameType(in, out)) {
    std::memcpy(dst, src, static_cast<size_t>(n * schema::dtypeBytes(out)));
    return;
  }
  size_t es = in == Src::F32 ? 4 : 2;
  if (out == DType::F32 && in == Src::BF16) {
    float *f = reinterpret_cast<float *>(dst);
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      uint32_t bits = static_cast<uint32_t>(h) << 16;
      std::memcpy(f + i, &bits, 4);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    put(out, dst, i, element(in, src + i * es));
}

/// Resolves and checks the tensor recipe `r` packs from.
Job plan(const WeightRecipe &r, const SafeTensors &checkpoint, size_t offset) {
  const TensorView *t = nullptr;
  for (const std::string &s : r.sources)
    if ((t = checkpoint.find(s)))
      break;
  if (!t)
    fail("{}: tensor '{}' not found (looked for {})", checkpoint.describe(),
         r.name, fmt::join(r.sources, ", "));
  Src dtype;
  if (t->dtype == "F32")
    dtype = Src::F32;
  else if (t->dtype == "F16")
    dtype = Src::F16;
  else if (t->dtype == "BF16")
    dtype = Src::BF16;
  else
    fail("{}: tensor '{}': dtype {} is not supported (F32, F16, BF16)", t->file,
         t->name, t->dtype);
  bool transpose = r.transform == WeightTransform::Transpose;
  // The whole (transformed) tensor the shard is taken from.
  std::vector<int64_t> logical = r.shape;
  std::vector<int64_t> shardOffset(r.shape.size(), 0);
  if (r.shard) {
    logical[r.shard->axis] *= r.shard->count;
    shardOffset[r.shard->axis] = r.shard->index * r.shape[r.shard->axis];
  }
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
  return {&r, t, dtype, offset, transpose, std::move(shardOffset)};
}

/// A range of a job's packed elements: rows [begin, end) of dimension 0
/// (elements, for a 1-D tensor).
struct Task {
  const Job *job;
  int64_t begin, end;
  int64_t bytes; // output bytes, for progress
};

/// Row `i`'s K values as int8 (round to nearest even of w / s, within
/// [-127, 127]) followed by s = max|w| / 127 (0 for a zero row), the
/// definition the parity goldens use.
float rowScale(const float *w, int64_t k) {
  float maxAbs = 0;
  for (int64_t c = 0; c < k; ++c)
    maxAbs = std::max(maxAbs, std::fabs(w[c]));
  return maxAbs / 127.0f;
}

void quantizeRow(const float *w, int64_t k, float scale, uint8_t *out) {
  for (int64_t c = 0; c < k; ++c) {
    float q = scale > 0 ? std::nearbyint(w[c] / scale) : 0.0f;
    q = std::min(127.0f, std::max(-127.0f, q));
    out[c] = static_cast<uint8_t>(static_cast<int8_t>(q));
  }
  std::memcpy(out + k, &scale, 4);
}

/// Fills rows [begin, end) of the job's packed tensor; row `firstRow` of
/// the packed layout is at `out`.
void pack(const Task &task, uint8_t *out, int64_t firstRow) {
  const Job &j = *task.job;
  const WeightRecipe &r = *j.recipe;
  const TensorView &t = *j.tensor;
  DType od = r.dtype;
  int64_t os = schema::dtypeBytes(od);
  size_t es = dtypeSize(t.dtype);
  size_t rank = r.shape.size();
  if (rank == 1) {
    convert(j.dtype, t.data + (task.begin + j.shardOffset[0]) * es, od,
            out + (task.begin - firstRow) * os, task.end - task.begin);
    return;
  }
  if (rank == 2 && !j.transpose) {
    int64_t cols = r.shape[1], storedCols = t.shape[1];
    for (int64_t i = task.begin; i < task.end; ++i)
      convert(j.dtype,
              t.data +
                  ((i + j.shardOffset[0]) * storedCols + j.shardOffset[1]) * es,
              od, out + (i - firstRow) * cols * os, cols);
    return;
  }
  if (rank == 2) {
    // packed[i][c] = stored[c + o1][i + o0], in tiles that stay in cache.
    int64_t cols = r.shape[1], storedCols = t.shape[1];
    constexpr int64_t kTile = 32;
    for (int64_t i0 = task.begin; i0 < task.end; i0 += kTile) {
      int64_t i1 = std::min(i0 + kTile, task.end);
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        int64_t c1 = std::min(c0 + kTile, cols);
        for (int64_t c = c0; c < c1; ++c) {
          const uint8_t *row =
              t.data +
              ((c + j.shardOffset[1]) * storedCols + j.shardOffset[0]) * es;
          for (int64_t i = i0; i < i1; ++i)
            put(od, out, (i - firstRow) * cols + c,
                element(j.dtype, row + i * es));
        }
      }
    }
    return;
  }
  // Higher ranks (never transposed): element by element over the rows.
  int64_t inner = 1;
  for (size_t d = 1; d < rank; ++d)
    inner *= r.shape[d];
  std::vector<int64_t> strides(rank, 1), index(rank, 0);
  for (size_t d = rank - 1; d > 0; --d)
    strides[d - 1] = strides[d] * t.shape[d];
  index[0] = task.begin;
  for (int64_t e = task.begin * inner; e < task.end * inner; ++e) {
    int64_t flat = 0;
    for (size_t d = 0; d < rank; ++d)
      flat += (index[d] + j.shardOffset[d]) * strides[d];
    put(od, out, e - firstRow * inner, element(j.dtype, t.data + flat * es));
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < r.shape[d])
        break;
      index[d] = 0;
    }
  }
}

void run(const Task &task, uint8_t *buffer) {
  const Job &j = *task.job;
  if (!j.int8) {
    pack(task, buffer + j.offset, 0);
    return;
  }
  // The f32 rows first, then each quantized into its K + 4 bytes.
  int64_t k = j.recipe->shape[1];
  std::vector<float> rows(static_cast<size_t>((task.end - task.begin) * k));
  pack(task, reinterpret_cast<uint8_t *>(rows.data()), task.begin);
  std::vector<float> whole;
  int64_t wk = k;
  if (j.wholeRows) {
    wk = j.wholeRows->recipe->shape[1];
    whole.resize(static_cast<size_t>((task.end - task.begin) * wk));
    Task all{j.wholeRows.get(), task.begin, task.end, 0};
    pack(all, reinterpret_cast<uint8_t *>(whole.data()), task.begin);
  }
  for (int64_t i = task.begin; i < task.end; ++i) {
    const float *row = rows.data() + (i - task.begin) * k;
    float scale = j.wholeRows
                      ? rowScale(whole.data() + (i - task.begin) * wk, wk)
                      : rowScale(row, k);
    quantizeRow(row, k, scale, buffer + j.offset + i * (k + 4));
  }
}

} // namespace

AlignedBuffer bindWeights(const schema::Manifest &manifest,
                          const SafeTensors &checkpoint,
                          const BindOptions &options) {
  std::vector<Job> jobs;
  std::deque<WeightRecipe> matrices; // int8 recipes' f32 matrices
  for (const WeightRecipe &r : manifest.weights) {
    if (r.dtype == DType::I8) {
      // int8 rows [N, K + 4] from the f32 matrix [N, K] (or its parts).
      if (r.shape.size() != 2 || r.shape[1] <= 4)
        fail("weight '{}': int8 rows must be [rows, k + 4], got [{}]", r.name,
             fmt::join(r.shape, ", "));
      int64_t k = r.shape[1] - 4;
      std::vector<const WeightRecipe *> parts;
      if (r.transform == WeightTransform::Concat) {
        for (const WeightRecipe &part : r.parts)
          parts.push_back(&part);
      } else {
        WeightRecipe m = r;
        m.dtype = DType::F32;
        m.shape = {r.shape[0], k};
        matrices.push_back(std::move(m));
        parts.push_back(&matrices.back());
      }
      size_t offset = r.offset;
      for (const WeightRecipe *part : parts) {
        if (part->dtype != DType::F32 || part->shape.size() != 2 ||
            part->shape[1] != k)
          fail("weight '{}': part '{}' is not an f32 [rows, {}] matrix", r.name,
               part->name, k);
        jobs.push_back(plan(*part, checkpoint, offset));
        jobs.back().int8 = true;
        if (part->shard && part->shard->axis == 1 && part->shard->count > 1) {
          WeightRecipe m = *part;
          m.shard.reset();
          m.shape[1] = k * part->shard->count;
          matrices.push_back(std::move(m));
          jobs.back().wholeRows =
              std::make_shared<const Job>(plan(matrices.back(), checkpoint, 0));
        }
        offset += static_cast<size_t>(part->shape[0] * (k + 4));
      }
      continue;
    }
    if (r.dtype != DType::F32 && r.dtype != DType::BF16 &&
        r.dtype != DType::F16)
      fail("weight '{}': packed dtype {} is not supported (f32, bf16, f16, "
           "i8)",
           r.name, schema::nameOf(r.dtype));
    if (r.transform != WeightTransform::Concat) {
      jobs.push_back(plan(r, checkpoint, r.offset));
      continue;
    }
    // Merged projections: the parts one after another along dimension 0.
    size_t offset = r.offset;
    for (const WeightRecipe &part : r.parts) {
      jobs.push_back(plan(part, checkpoint, offset));
      offset += static_cast<size_t>(part.bytes());
    }
  }
  auto packedBytes = [](const Job &j) {
    return j.int8 ? j.recipe->shape[0] * (j.recipe->shape[1] + 4)
                  : j.recipe->bytes();
  };
  for (const Job &j : jobs)
    if (j.offset + static_cast<size_t>(packedBytes(j)) >
        static_cast<size_t>(manifest.weightsBytes))
      fail("weight '{}' lies outside the artifact's {} bytes of weights",
           j.recipe->name, manifest.weightsBytes);

  // Tasks of about 4 MiB of output each.
  std::vector<Task> tasks;
  int64_t total = 0;
  for (const Job &j : jobs) {
    int64_t rows = j.recipe->shape.empty() ? 1 : j.recipe->shape[0];
    int64_t rowBytes = rows ? packedBytes(j) / rows : 0;
    int64_t per = std::max<int64_t>(1, (int64_t(4) << 20) /
                                           std::max<int64_t>(rowBytes, 1));
    if (j.transpose)
      per = (per + 31) / 32 * 32;
    for (int64_t b = 0; b < rows; b += per) {
      int64_t e = std::min(rows, b + per);
      tasks.push_back({&j, b, e, (e - b) * rowBytes});
      total += (e - b) * rowBytes;
      ++*j.tasksLeft;
    }
  }

  AlignedBuffer buf(manifest.weightsBytes, "the packed weights");
  std::atomic<size_t> next{0};
  std::atomic<int64_t> done{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  std::mutex errorMutex;
  auto worker = [&] {
    try {
      for (size_t i; (i = next.fetch_add(1)) < tasks.size();) {
        run(tasks[i], buf.data());
        done += tasks[i].bytes;
        // The checkpoint's pages of a finished tensor leave resident
        // memory: peak RSS is the packed weights, not both copies.
        const Job &j = *tasks[i].job;
        if (--*j.tasksLeft == 0)
          releasePages(j.tensor->data, j.tensor->bytes);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(errorMutex);
      error = std::current_exception();
      failed = true;
      next = tasks.size();
    }
  };
  int threads = std::max(1, options.threads);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i)
    pool.emplace_back(worker);
  if (!options.progress) {
    worker();
  } else {
    // The calling thread reports progress while the others convert.
    std::thread last(worker);
    while (done.load() < total && !failed) {
      options.progress(done.load(), total);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    last.join();
    options.progress(done.load(), total);
  }
  for (std::thread &t : pool)
    t.join();
  if (error)
    std::rethrow_exception(error);
  return buf;
}

} // namespace llmc::rt
