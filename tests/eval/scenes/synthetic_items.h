// Test-only synthetic Fashion-MNIST-like items, so generator tests need no dataset.
#ifndef TESTS_EVAL_SCENES_SYNTHETIC_ITEMS_H_
#define TESTS_EVAL_SCENES_SYNTHETIC_ITEMS_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "eval/scenes/item_pool.h"

namespace mochi::eval::scenes::testing {

// SyntheticPool returns `per_class` items of each of the 10 classes: a bright rectangle whose
// margins depend on the class and the item, with a 6x6 hole (like a bag handle) for class 8.
inline ItemPool SyntheticPool(int per_class) {
  constexpr int kSize = ItemPool::kItemSize;
  std::vector<uint8_t> pixels, labels;
  for (int i = 0; i < per_class; ++i) {
    for (int label = 0; label < 10; ++label) {
      const int mx = 1 + (label + i) % 6, my = 1 + (2 * label + i) % 5;
      for (int y = 0; y < kSize; ++y) {
        for (int x = 0; x < kSize; ++x) {
          bool on = x >= mx && x < kSize - mx && y >= my && y < kSize - my;
          if (label == 8 && x >= 11 && x < 17 && y >= 8 && y < 14) on = false;
          pixels.push_back(on ? static_cast<uint8_t>(120 + 10 * label) : 0);
        }
      }
      labels.push_back(static_cast<uint8_t>(label));
    }
  }
  return *ItemPool::Create(std::move(pixels), std::move(labels));
}

}  // namespace mochi::eval::scenes::testing

#endif  // TESTS_EVAL_SCENES_SYNTHETIC_ITEMS_H_
