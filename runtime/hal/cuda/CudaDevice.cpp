//===- CudaDevice.cpp - run an artifact's plan on an NVIDIA GPU -----------===//
#include "runtime/hal/cuda/CudaDevice.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/comm/DeviceCommunicator.h"
#include "runtime/hal/cuda/CudaDriver.h"
#include "runtime/support/Error.h"
#include "runtime/support/MappedFile.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

namespace llmc::rt {

namespace fs = std::filesystem;

GpuArch GpuArch::parse(const std::string &arch) {
  GpuArch a;
  std::string digits = arch.rfind("sm_", 0) == 0 ? arch.substr(3) : "";
  if (!digits.empty() && digits.back() == 'a') {
    a.archSpecific = true;
    digits.pop_back();
  }
  if (digits.size() < 2 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    fail("'{}' is not a GPU architecture (sm_90a, sm_80, ...)", arch);
  a.major = std::stoi(digits.substr(0, digits.size() - 1));
  a.minor = digits.back() - '0';
  return a;
}

std::optional<ModuleChoice> chooseModule(const GpuArch &built, bool haveCubin,
                                         int gpuMajor, int gpuMinor,
                                         std::string &why) {
  bool same = built.major == gpuMajor && built.minor == gpuMinor;
  if (same && haveCubin)
    return ModuleChoice::Cubin;
  if (same)
    return ModuleChoice::Ptx;
  bool newer = gpuMajor > built.major ||
               (gpuMajor == built.major && gpuMinor > built.minor);
  if (newer && !built.archSpecific)
    return ModuleChoice::Ptx;
  why = built.archSpecific && newer
            ? "its kernels use architecture-specific features of that GPU "
              "only"
            : "the GPU is older than the kernels' architecture";
  return std::nullopt;
}

namespace {

class CudaDevice : public Device {
public:
  CudaDevice(const Artifact &artifact, const DeviceOptions &options);
  ~CudaDevice() override;

  void loadWeights(AlignedBuffer weights) override;
  void allocate(int64_t numKvBlocks) override;
  int64_t numKvBlocks() const override { return numKvBlocks_; }
  void run(const StepInputs &inputs, std::vector<float> &logits) override;
  void copyBlocks(const std::vector<kv::BlockCopy> &copies) override;
  int64_t memoryAvailable() const override;
  bool hasSeparateMemory() const override { return true; }

private:
  /// Device memory that frees itself.
  struct Buffer {
    CUdeviceptr ptr = 0;
    size_t bytes = 0;
  };
  void alloc(Buffer &b, size_t bytes, const char *what);
  void release(Buffer &b);
  void sync(const std::string &what);
  /// Runs collective / send / recv entry `k` on the stream.
  void communicate(size_t k);

  const CudaDriver &d_;
  schema::Manifest manifest_;
  CUdevice device_ = 0;
  CUcontext ctx_ = nullptr;
  CUmodule module_ = nullptr;
  CUstream stream_ = nullptr;
  std::vector<CUfunction> functions_; // per plan entry
  std::vector<int64_t> cacheOffsets_;
  Buffer weights_, kv_, arena_, inputs_, logits_;
  Buffer gathered_; // all_gather's rank-major staging
  /// A parallel artifact: NCCL over the stage's tensor-parallel group and
  /// over the whole job (pipeline sends; null without stages).
  std::unique_ptr<DeviceCommunicator> tensor_, world_;
  bool producesLogits_ = true;
  double timeoutSeconds_ = 0;
  int64_t numKvBlocks_ = 0;
  int64_t steps_ = 0;
  bool syncEachLaunch_ = false;
  std::vector<int32_t> packed_;
  BoundLaunch bound_;
  std::vector<void *> params_;
};

CudaDevice::CudaDevice(const Artifact &artifact, const DeviceOptions &options)
    : d_(CudaDriver::get()), manifest_(artifact.manifest()),
      producesLogits_(manifest_.producesLogits()),
      timeoutSeconds_(options.timeoutSeconds) {
  int deviceIndex = options.gpu;
  const schema::Manifest &m = manifest_;
  std::string manifestPath = artifact.directory() + "/manifest.json";
  if (m.program.abiVersion != schema::kCudaKernelAbiVersion)
    fail("{}: field 'program.abi_version': CUDA kernel ABI {} but this "
         "llm-run calls ABI {}",
         manifestPath, m.program.abiVersion, schema::kCudaKernelAbiVersion);
  int count = 0;
  d_.check(d_.cuDeviceGetCount(&count), "counting the CUDA devices");
  if (deviceIndex < 0 || deviceIndex >= count)
    fail("CUDA device {} does not exist ({} found)", deviceIndex, count);
  d_.check(d_.cuDeviceGet(&device_, deviceIndex), "cuDeviceGet");
  int major = 0, minor = 0;
  d_.check(d_.cuDeviceGetAttribute(
               &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device_),
           "reading the compute capability");
  d_.check(d_.cuDeviceGetAttribute(
               &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device_),
           "reading the compute capability");
  char name[256] = {0};
  d_.cuDeviceGetName(name, sizeof name, device_);

  GpuArch built = GpuArch::parse(m.arch);
  const schema::Cubin *cubin = nullptr;
  for (const schema::Cubin &c : m.program.cubins)
    if (c.arch == m.arch)
      cubin = &c;
  std::string why;
  std::optional<ModuleChoice> choice =
      chooseModule(built, cubin != nullptr, major, minor, why);
  if (!choice)
    fail("{}: the artifact's kernels are built for {} but {} is sm_{}{} "
         "({}); recompile with llmc --target=cuda --arch=sm_{}{}",
         artifact.directory(), m.arch, name, major, minor, why, major, minor);

  d_.check(d_.cuDevicePrimaryCtxRetain(&ctx_, device_),
           "creating a context on " + std::string(name));
  d_.check(d_.cuCtxSetCurrent(ctx_), "cuCtxSetCurrent");
  {
    // The PTX's last line names the manifest it was built for.
    std::string ptx = readFile(artifact.programPath());
    size_t at = ptx.rfind(schema::kPtxDigestComment);
    std::string digest;
    if (at != std::string::npos) {
      at += std::strlen(schema::kPtxDigestComment);
      size_t end = ptx.find('\n', at);
      digest = ptx.substr(at, std::min<size_t>(64, end - at));
    }
    artifact.checkBinding(digest);
  }
  std::string file =
      *choice == ModuleChoice::Cubin ? cubin->file : m.program.library;
  std::string image =
      readFile((fs::path(artifact.directory()) / file).string());
  if (*choice == ModuleChoice::Ptx)
    image.push_back('\0');
  d_.check(d_.cuModuleLoadData(&module_, image.data()),
           "loading " + artifact.directory() + "/" + file + " on " + name);
  for (const schema::PlanEntry &e : m.plan) {
    CUfunction f = nullptr;
    if (e.kind != schema::EntryKind::Launch) {
      functions_.push_back(nullptr);
      continue;
    }
    std::string entry = schema::kernelSymbol(e.kernel);
    d_.check(d_.cuModuleGetFunction(&f, module_, entry.c_str()),
             file + ": kernel entry '" + entry + "'");
    if (!e.threads)
      fail("{}: plan entry for kernel '{}' has no threads per block",
           manifestPath, e.kernel);
    functions_.push_back(f);
  }
  d_.check(d_.cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING),
           "cuStreamCreate");
  cacheOffsets_ = kvCacheOffsets(m);
  const char *debug = std::getenv("LLMC_CUDA_SYNC");
  syncEachLaunch_ = debug && *debug && std::string(debug) != "0";
  alloc(arena_, static_cast<size_t>(std::max<int64_t>(m.arenaBytes, 1)),
        "the activation arena");
  alloc(logits_,
        static_cast<size_t>(m.maxBatchTokens * m.vocabSize) * sizeof(float),
        "the logits");
  if (!m.ranks.empty()) {
    // Every rank of the group joins, on this context's device.
    if (!options.comm || !options.world)
      fail("{}: a parallel cuda artifact needs its ranks' communicators",
           artifact.directory());
    tensor_ = createNcclCommunicator(*options.comm);
    if (m.pp > 1)
      world_ = createNcclCommunicator(*options.world);
    if (tensor_->size() != m.tp)
      fail("the plan's collectives span {} tensor-parallel ranks and the "
           "NCCL group has {}",
           m.tp, tensor_->size());
  }
}

CudaDevice::~CudaDevice() {
  tensor_.reset();
  world_.reset();
  for (Buffer *b : {&weights_, &kv_, &arena_, &inputs_, &logits_, &gathered_})
    release(*b);
  if (stream_)
    d_.cuStreamDestroy(stream_);
  if (module_)
    d_.cuModuleUnload(module_);
  if (ctx_)
    d_.cuDevicePrimaryCtxRelease(device_);
}

void CudaDevice::alloc(Buffer &b, size_t bytes, const char *what) {
  release(b);
  CUresult r = d_.cuMemAlloc(&b.ptr, bytes);
  if (r == CUDA_ERROR_OUT_OF_MEMORY) {
    size_t free = 0, total = 0;
    d_.cuMemGetInfo(&free, &total);
    fail("out of GPU memory for {}: {:.2f} GiB asked, {:.2f} GiB free of "
         "{:.2f} GiB",
         what, bytes / 1073741824.0, free / 1073741824.0, total / 1073741824.0);
  }
  d_.check(r, std::string("allocating ") + what);
  b.bytes = bytes;
}

void CudaDevice::release(Buffer &b) {
  if (b.ptr)
    d_.cuMemFree(b.ptr);
  b = Buffer();
}

void CudaDevice::sync(const std::string &what) {
  if (!tensor_) {
    d_.check(d_.cuStreamSynchronize(stream_), what);
    return;
  }
  // A parallel step waits on its peers: poll, so that a failed or stuck
  // peer ends this rank with a message instead of a hang.
  auto start = std::chrono::steady_clock::now();
  for (int sleepUs = 10;; sleepUs = std::min(sleepUs * 2, 1000)) {
    CUresult r = d_.cuStreamQuery(stream_);
    if (r == CUDA_SUCCESS)
      return;
    if (r != CUDA_ERROR_NOT_READY)
      d_.check(r, what);
    tensor_->checkAsyncError();
    if (world_)
      world_->checkAsyncError();
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (timeoutSeconds_ > 0 && s > timeoutSeconds_) {
      tensor_->abort();
      if (world_)
        world_->abort();
      fail("rank {}: {} did not complete in {} s (another rank stopped or "
           "is stuck)",
           manifest_.rank, what, timeoutSeconds_);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(sleepUs));
  }
}

void CudaDevice::communicate(size_t k) {
  const schema::PlanEntry &e = manifest_.plan[k];
  std::vector<int64_t> shape = boundShape(e, bound_, 0);
  size_t n = 1;
  for (int64_t x : shape)
    n *= static_cast<size_t>(x);
  uint64_t a = bound_.pointers[0];
  switch (e.kind) {
  case schema::EntryKind::Send:
  case schema::EntryKind::Recv: {
    int peer = static_cast<int>(manifest_.rankOf(e.peer, manifest_.tpRank()));
    if (e.kind == schema::EntryKind::Send)
      world_->send(a, n * sizeof(float), peer, stream_);
    else
      world_->recv(a, n * sizeof(float), peer, stream_);
    return;
  }
  case schema::EntryKind::AllReduce:
    tensor_->allReduceSum(a, bound_.pointers[1], n, stream_);
    return;
  case schema::EntryKind::AllGather: {
    // Rank-major parts, then each rank's part into its place along the
    // axis: one strided 2-D copy per rank.
    size_t ranks = static_cast<size_t>(tensor_->size());
    size_t bytes = n * ranks * sizeof(float);
    if (gathered_.bytes < bytes)
      alloc(gathered_, bytes, "the all-gather staging buffer");
    tensor_->allGather(a, gathered_.ptr, n, stream_);
    GatherRuns runs = gatherRuns(shape, e.axis);
    for (size_t q = 0; q < ranks; ++q) {
      CUDA_MEMCPY2D c{};
      c.srcMemoryType = CU_MEMORYTYPE_DEVICE;
      c.srcDevice = gathered_.ptr + q * n * sizeof(float);
      c.srcPitch = runs.inner * sizeof(float);
      c.dstMemoryType = CU_MEMORYTYPE_DEVICE;
      c.dstDevice = bound_.pointers[1] + q * runs.inner * sizeof(float);
      c.dstPitch = ranks * runs.inner * sizeof(float);
      c.WidthInBytes = runs.inner * sizeof(float);
      c.Height = runs.outer;
      d_.check(d_.cuMemcpy2DAsync(&c, stream_), "rearranging an all-gather");
    }
    return;
  }
  case schema::EntryKind::Launch:
    break;
  }
}

int64_t CudaDevice::memoryAvailable() const {
  size_t free = 0, total = 0;
  d_.check(d_.cuMemGetInfo(&free, &total), "cuMemGetInfo");
  return static_cast<int64_t>(free);
}

void CudaDevice::loadWeights(AlignedBuffer weights) {
  if (static_cast<int64_t>(weights.size()) != manifest_.weightsBytes)
    fail("packed weights of {} bytes for an artifact of {}", weights.size(),
         manifest_.weightsBytes);
  alloc(weights_, std::max<size_t>(weights.size(), 1), "the weights");
  if (weights.size())
    d_.check(d_.cuMemcpyHtoD(weights_.ptr, weights.data(), weights.size()),
             "uploading the weights");
}

void CudaDevice::allocate(int64_t numKvBlocks) {
  if (numKvBlocks < 1)
    fail("a KV pool needs at least one block");
  alloc(kv_, static_cast<size_t>(numKvBlocks * manifest_.kvBytesPerBlock()),
        "the KV cache");
  numKvBlocks_ = numKvBlocks;
}

void CudaDevice::run(const StepInputs &in, std::vector<float> &logits) {
  if (!weights_.ptr && manifest_.weightsBytes > 0)
    fail("the device has no weights (loadWeights first)");
  if (!numKvBlocks_)
    fail("the device has no KV pool (allocate first)");
  checkStepInputs(in, manifest_, numKvBlocks_);
  ++steps_;
  BufferBases bases;
  std::array<uint64_t, schema::kNumStepInputs> offsets{};
  packStepInputs(in, packed_, offsets);
  size_t inputBytes = packed_.size() * sizeof(int32_t);
  if (inputBytes > inputs_.bytes)
    alloc(inputs_, inputBytes * 2, "the step inputs");
  d_.check(
      d_.cuMemcpyHtoDAsync(inputs_.ptr, packed_.data(), inputBytes, stream_),
      "uploading the step inputs");
  bases.weights = weights_.ptr;
  bases.arena = arena_.ptr;
  bases.kv = kv_.ptr;
  bases.output = logits_.ptr;
  for (size_t i = 0; i < schema::kNumStepInputs; ++i)
    bases.inputs[i] = inputs_.ptr + offsets[i];

  for (size_t k = 0; k < manifest_.plan.size(); ++k) {
    const schema::PlanEntry &e = manifest_.plan[k];
    bindLaunch(e, in, numKvBlocks_, cacheOffsets_, bases, bound_);
    if (e.kind != schema::EntryKind::Launch) {
      communicate(k);
      if (syncEachLaunch_)
        sync(fmt::format("step {}, plan entry {} ({})", steps_, k,
                         schema::nameOf(e.kind)));
      continue;
    }
    if (bound_.items == 0)
      continue;
    params_.clear();
    for (uint64_t &p : bound_.pointers)
      params_.push_back(&p);
    for (int64_t &s : bound_.sizes)
      params_.push_back(&s);
    int64_t threads = *e.threads;
    int64_t blocks = (bound_.items + threads - 1) / threads;
    std::string where = fmt::format("step {}, plan entry {} (kernel '{}')",
                                    steps_, k, e.kernel);
    d_.check(d_.cuLaunchKernel(functions_[k], static_cast<unsigned>(blocks), 1,
                               1, static_cast<unsigned>(threads), 1, 1, 0,
                               stream_, params_.data(), nullptr),
             "launching " + where);
    if (syncEachLaunch_)
      sync(where);
  }
  size_t rows = producesLogits_ ? in.logitsIndices.size() : 0;
  logits.resize(rows * manifest_.vocabSize);
  if (rows)
    d_.check(d_.cuMemcpyDtoHAsync(logits.data(), logits_.ptr,
                                  logits.size() * sizeof(float), stream_),
             "reading the logits");
  sync(fmt::format("step {} (set LLMC_CUDA_SYNC=1 to find the failing "
                   "kernel)",
                   steps_));
}

void CudaDevice::copyBlocks(const std::vector<kv::BlockCopy> &copies) {
  if (copies.empty())
    return;
  for (size_t c = 0; c < manifest_.kvCaches.size(); ++c) {
    int64_t block = manifest_.kvCaches[c].bytesPerBlock();
    CUdeviceptr cache = kv_.ptr + numKvBlocks_ * cacheOffsets_[c];
    for (const kv::BlockCopy &copy : copies)
      d_.check(d_.cuMemcpyDtoDAsync(cache + copy.dst * block,
                                    cache + copy.src * block,
                                    static_cast<size_t>(block), stream_),
               "copying a KV block");
  }
}

} // namespace

std::unique_ptr<Device> createCudaDevice(const Artifact &artifact,
                                         const DeviceOptions &options) {
  return std::make_unique<CudaDevice>(artifact, options);
}

} // namespace llmc::rt
