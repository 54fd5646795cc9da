//===- CudaDeviceTest.cpp - the CUDA device's host-side choices -----------===//
//
// What the CUDA device decides without a driver: which of the artifact's
// modules a GPU can load, and the message when none. (Running kernels needs
// a GPU: bench/gpu/check.sh.)
//
//===----------------------------------------------------------------------===//
#include "runtime/hal/cuda/CudaDevice.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

using namespace llmc::rt;

namespace {

TEST(CudaDevice, ParsesArchitectures) {
  GpuArch h = GpuArch::parse("sm_90a");
  EXPECT_EQ(h.major, 9);
  EXPECT_EQ(h.minor, 0);
  EXPECT_TRUE(h.archSpecific);
  GpuArch a = GpuArch::parse("sm_86");
  EXPECT_EQ(a.major, 8);
  EXPECT_EQ(a.minor, 6);
  EXPECT_FALSE(a.archSpecific);
  GpuArch b = GpuArch::parse("sm_100");
  EXPECT_EQ(b.major, 10);
  EXPECT_EQ(b.minor, 0);
  for (const char *bad : {"sm_", "sm_9", "90a", "sm_x0", "compute_90"})
    EXPECT_THROW(GpuArch::parse(bad), Error) << bad;
}

TEST(CudaDevice, ChoosesTheModuleAGpuCanLoad) {
  std::string why;
  // Same architecture: the cubin when there is one, else the PTX.
  EXPECT_EQ(chooseModule(GpuArch::parse("sm_90a"), true, 9, 0, why),
            ModuleChoice::Cubin);
  EXPECT_EQ(chooseModule(GpuArch::parse("sm_90a"), false, 9, 0, why),
            ModuleChoice::Ptx);
  // A newer GPU JIT-compiles portable PTX...
  EXPECT_EQ(chooseModule(GpuArch::parse("sm_80"), true, 9, 0, why),
            ModuleChoice::Ptx);
  EXPECT_EQ(chooseModule(GpuArch::parse("sm_80"), true, 8, 6, why),
            ModuleChoice::Ptx);
  // ... but not arch-specific PTX, and an older GPU nothing.
  EXPECT_FALSE(chooseModule(GpuArch::parse("sm_90a"), true, 10, 0, why));
  EXPECT_NE(why.find("architecture-specific"), std::string::npos);
  EXPECT_FALSE(chooseModule(GpuArch::parse("sm_90a"), true, 8, 0, why));
  EXPECT_NE(why.find("older"), std::string::npos);
}

} // namespace
