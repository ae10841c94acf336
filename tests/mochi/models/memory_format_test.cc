#include "mochi/models/memory_format.h"

#include <vector>

#include "ATen/ATen.h"
#include "gtest/gtest.h"
#include "mochi/models/resnet.h"

namespace mochi::models {
namespace {

TEST(ToChannelsLastTest, ConvertsEveryConvWeightAndKeepsTheValues) {
  ResNet net(ResNetOptions().depth(18).width(8).in_channels(1).num_classes(10));
  std::vector<at::Tensor> before;
  for (const at::Tensor& p : net->parameters()) before.push_back(p.detach().clone());
  ToChannelsLast(*net);
  const std::vector<at::Tensor> after = net->parameters();
  ASSERT_EQ(after.size(), before.size());
  int convs = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(at::equal(after[i], before[i]));
    if (after[i].dim() != 4) continue;
    ++convs;
    EXPECT_TRUE(after[i].is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(after[i].requires_grad());
  }
  EXPECT_EQ(convs, 20);  // ResNet-18: stem + 16 block convs + 3 downsampling 1x1 convs
}

}  // namespace
}  // namespace mochi::models
