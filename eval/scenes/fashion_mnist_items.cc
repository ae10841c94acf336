#include "eval/scenes/fashion_mnist_items.h"

#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "ATen/core/Tensor.h"
#include "mochi/port/status_macros.h"

namespace mochi::eval::scenes {

absl::StatusOr<ItemPool> LoadFashionMnistItems(const std::string& root,
                                               data::FashionMnistOptions::Split split,
                                               int64_t limit) {
  data::FashionMnistOptions options;
  options.root = root;
  options.split = split;
  options.limit = limit;
  MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<data::FashionMnist> dataset,
                         data::FashionMnist::Load(options));
  const int64_t n = dataset->size();
  std::vector<uint8_t> pixels(static_cast<size_t>(n) * ItemPool::kItemPixels);
  std::memcpy(pixels.data(), dataset->images().data_ptr<uint8_t>(), pixels.size());
  std::vector<uint8_t> labels(static_cast<size_t>(n));
  const int64_t* label_data = dataset->labels().data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(label_data[i]);
  return ItemPool::Create(std::move(pixels), std::move(labels));
}

}  // namespace mochi::eval::scenes
