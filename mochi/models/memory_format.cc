#include "mochi/models/memory_format.h"

#include "ATen/core/grad_mode.h"

namespace mochi::models {

void ToChannelsLast(torch::nn::Module& module) {
  at::NoGradGuard no_grad;
  for (at::Tensor& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
}

}  // namespace mochi::models
