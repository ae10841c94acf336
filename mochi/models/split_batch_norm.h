// BatchNorm over G groups of the batch in one call: MoCo's single-GPU "SplitBatchNorm".
//
// MoCo computes BN statistics per GPU; one process simulates G of them by normalising G groups of
// its batch separately (moco { bn_groups }). Sample b is in group b mod G, so the batch
// [B, C, H, W] read as [B/G, G*C, H, W] holds group g's channels at g*C .. g*C + C-1, and one BN
// call over G*C channels (affine parameters repeated G times) normalises every group with its own
// statistics. The running statistics are updated as G separate calls from the same state would
// each update them, then averaged over the groups. In eval mode, or with G = 1, it is BatchNorm2d.
#ifndef MOCHI_MODELS_SPLIT_BATCH_NORM_H_
#define MOCHI_MODELS_SPLIT_BATCH_NORM_H_

#include <cstdint>

#include "torch/nn/module.h"
#include "torch/nn/modules/batchnorm.h"
#include "torch/nn/pimpl.h"

namespace mochi::models {

class SplitBatchNorm2dImpl : public torch::nn::BatchNorm2dImpl {
 public:
  using torch::nn::BatchNorm2dImpl::BatchNorm2dImpl;

  // x [B, C, H, W]; in training mode with G > 1, B must be a multiple of G.
  torch::Tensor forward(const torch::Tensor& x);

  int64_t groups() const { return groups_; }
  void set_groups(int64_t groups);

 private:
  int64_t groups_ = 1;
};
TORCH_MODULE(SplitBatchNorm2d);

// Sets the groups of every SplitBatchNorm2d in `module` (itself included) while in scope, then
// back to 1.
class ScopedBatchNormGroups {
 public:
  ScopedBatchNormGroups(torch::nn::Module& module, int64_t groups);
  ~ScopedBatchNormGroups();
  ScopedBatchNormGroups(const ScopedBatchNormGroups&) = delete;
  ScopedBatchNormGroups& operator=(const ScopedBatchNormGroups&) = delete;

 private:
  torch::nn::Module& module_;
};

}  // namespace mochi::models

#endif  // MOCHI_MODELS_SPLIT_BATCH_NORM_H_
