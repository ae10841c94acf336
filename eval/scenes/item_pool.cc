#include "eval/scenes/item_pool.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace mochi::eval::scenes {

absl::StatusOr<ItemPool> ItemPool::Create(std::vector<uint8_t> pixels,
                                          std::vector<uint8_t> labels) {
  if (pixels.size() != labels.size() * kItemPixels) {
    return absl::InvalidArgumentError(absl::StrCat("item pool: ", pixels.size(), " pixels for ",
                                                   labels.size(), " labels, expected ",
                                                   labels.size() * kItemPixels));
  }
  ItemPool pool;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= kNumSceneCategories) {
      return absl::InvalidArgumentError(
          absl::StrCat("item pool: label ", int{labels[i]}, " of item ", i, " is not in 0..9"));
    }
    pool.by_class_[labels[i]].push_back(static_cast<int64_t>(i));
  }
  pool.pixels_ = std::move(pixels);
  pool.labels_ = std::move(labels);
  return pool;
}

ItemPool ItemPool::Slice(int64_t begin, int64_t end) const {
  begin = std::clamp<int64_t>(begin, 0, size());
  end = std::clamp<int64_t>(end, begin, size());
  std::vector<uint8_t> pixels(pixels_.begin() + begin * kItemPixels,
                              pixels_.begin() + end * kItemPixels);
  std::vector<uint8_t> labels(labels_.begin() + begin, labels_.begin() + end);
  // Cannot fail: the slice of a valid pool is valid.
  return *Create(std::move(pixels), std::move(labels));
}

}  // namespace mochi::eval::scenes
