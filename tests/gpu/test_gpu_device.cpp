#include <gtest/gtest.h>

#include "core/kernels/cuda/device_info.h"
#include "tests/gpu/gpu_test_util.h"

TEST(GpuDevice, DeviceKeyNamesTheGpu) {
    RT_REQUIRE_GPU();
    auto key = rtinfer::cuda::device_key(0);
    ASSERT_TRUE(key.has_value()) << key.status().to_string();
    EXPECT_EQ(key->rfind("cuda:", 0), 0u) << *key;
    EXPECT_NE(key->find(":sm_"), std::string::npos) << *key;
}
