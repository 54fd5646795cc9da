//===- NcclTest.cpp - the NCCL communicator on a GPU, world size 1 --------===//
//
// Needs a GPU, its driver and libnccl.so.2 (bench/gpu/check.sh runs it
// there); elsewhere it is skipped. One rank: every collective must give
// back its input, and the bootstrap must work with a group of one.
//
//===----------------------------------------------------------------------===//
#include "runtime/comm/DeviceCommunicator.h"
#include "runtime/hal/cuda/CudaDriver.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace llmc::rt;

namespace {

/// A job of one rank: nothing to send anywhere.
class SelfCommunicator : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int localSize() const override { return 1; }
  int localRank() const override { return 0; }
  void allReduceSum(const float *in, float *out, size_t n) override {
    std::copy(in, in + n, out);
  }
  void allGather(const float *in, float *out, size_t n) override {
    std::copy(in, in + n, out);
  }
  void send(const void *, size_t, int, int) override {
    fail("a job of one rank has no peer");
  }
  void recv(void *, size_t, int, int) override {
    fail("a job of one rank has no peer");
  }
  std::unique_ptr<Pending> recvLater(void *, size_t, int, int) override {
    fail("a job of one rank has no peer");
  }
  std::shared_ptr<Communicator> split(int, int) override {
    return std::make_shared<SelfCommunicator>();
  }
  void broadcast(void *, size_t, int) override {}
  void broadcastWhenReady(void *, size_t, int) override {}
  void barrier() override {}
  void barrierWhenReady() override {}
  [[noreturn]] void abort(int code) override { std::_Exit(code); }
};

TEST(Nccl, WorldOfOneOnTheGpu) {
  const CudaDriver *d = nullptr;
  try {
    d = &CudaDriver::get();
  } catch (const Error &e) {
    GTEST_SKIP() << e.what();
  }
  int count = 0;
  if (d->cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0)
    GTEST_SKIP() << "no CUDA device";
  CUdevice dev = 0;
  CUcontext ctx = nullptr;
  d->check(d->cuDeviceGet(&dev, 0), "cuDeviceGet");
  d->check(d->cuDevicePrimaryCtxRetain(&ctx, dev), "context");
  d->check(d->cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
  // On a GPU machine NCCL must come up: a failure here fails the test.
  SelfCommunicator boot;
  std::unique_ptr<DeviceCommunicator> nccl = createNcclCommunicator(boot);
  ASSERT_EQ(nccl->size(), 1);
  ASSERT_EQ(nccl->rank(), 0);

  constexpr size_t n = 1000;
  std::vector<float> host(n), back(n);
  std::iota(host.begin(), host.end(), -3.5f);
  CUstream stream = nullptr;
  d->check(d->cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "stream");
  CUdeviceptr in = 0, out = 0;
  d->check(d->cuMemAlloc(&in, n * sizeof(float)), "alloc");
  d->check(d->cuMemAlloc(&out, n * sizeof(float)), "alloc");
  d->check(d->cuMemcpyHtoD(in, host.data(), n * sizeof(float)), "upload");

  auto readBack = [&](CUdeviceptr p) {
    d->check(d->cuStreamSynchronize(stream), "sync");
    nccl->checkAsyncError();
    std::fill(back.begin(), back.end(), 0.0f);
    d->check(d->cuMemcpyDtoH(back.data(), p, n * sizeof(float)), "download");
    return back;
  };
  nccl->allReduceSum(in, out, n, stream);
  EXPECT_EQ(readBack(out), host) << "all_reduce over one rank";
  d->check(d->cuMemsetD8(out, 0, n * sizeof(float)), "clear");
  nccl->allGather(in, out, n, stream);
  EXPECT_EQ(readBack(out), host) << "all_gather over one rank";
  nccl->broadcast(in, n * sizeof(float), 0, stream);
  EXPECT_EQ(readBack(in), host) << "broadcast from rank 0";

  d->cuMemFree(in);
  d->cuMemFree(out);
  d->cuStreamDestroy(stream);
  nccl.reset();
  d->cuDevicePrimaryCtxRelease(dev);
}

} // namespace
