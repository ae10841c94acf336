// Convolution weights in channels_last (NHWC). LibTorch's Module::to has no memory-format overload
// (Python's module.to(memory_format=...)), so the 4-d parameters are converted in place; values
// are unchanged, and Module::to(device) afterwards keeps the layout.
#ifndef MOCHI_MODELS_MEMORY_FORMAT_H_
#define MOCHI_MODELS_MEMORY_FORMAT_H_

#include "torch/nn/module.h"

namespace mochi::models {

void ToChannelsLast(torch::nn::Module& module);

}  // namespace mochi::models

#endif  // MOCHI_MODELS_MEMORY_FORMAT_H_
