// The Fashion-MNIST items a split's scenes paste objects from.
#ifndef EVAL_SCENES_ITEM_POOL_H_
#define EVAL_SCENES_ITEM_POOL_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/scenes/categories.h"

namespace mochi::eval::scenes {

// ItemPool holds 28x28 grayscale items (row-major bytes, bright object on black, as in
// Fashion-MNIST) with labels 0..9, indexed by class. Torch-free, so tests can build synthetic
// pools.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(ItemPool pool, ItemPool::Create(std::move(pixels), std::move(labels)));
//   ItemPool first_half = pool.Slice(0, pool.size() / 2);
class ItemPool {
 public:
  static constexpr int kItemSize = 28;
  static constexpr int kItemPixels = kItemSize * kItemSize;

  ItemPool() = default;

  // InvalidArgument if pixels.size() != 784 * labels.size() or a label is not in 0..9.
  static absl::StatusOr<ItemPool> Create(std::vector<uint8_t> pixels, std::vector<uint8_t> labels);

  int64_t size() const { return static_cast<int64_t>(labels_.size()); }
  // Row-major 28x28 bytes of item `index` (precondition: 0 <= index < size()).
  const uint8_t* pixels(int64_t index) const { return pixels_.data() + index * kItemPixels; }
  int label(int64_t index) const { return labels_[index]; }
  // Indices of the items of class `label`, ascending.
  const std::vector<int64_t>& items_of_class(int label) const { return by_class_[label]; }
  // Items [begin, end) as a new pool (clamped to [0, size()]).
  ItemPool Slice(int64_t begin, int64_t end) const;

 private:
  std::vector<uint8_t> pixels_;
  std::vector<uint8_t> labels_;
  std::array<std::vector<int64_t>, kNumSceneCategories> by_class_;
};

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_ITEM_POOL_H_
