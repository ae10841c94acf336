// Loads a Fashion-MNIST split (Debian's dataset-fashion-mnist) as an ItemPool.
#ifndef MOCHI_DATA_SCENES_FASHION_MNIST_ITEMS_H_
#define MOCHI_DATA_SCENES_FASHION_MNIST_ITEMS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "mochi/data/fashion_mnist.h"
#include "mochi/data/scenes/item_pool.h"

namespace mochi::data::scenes {

// LoadFashionMnistItems reads `split` under `root` through FashionMnist::Load (same checks and
// messages: NotFound when the package is missing, DataLoss on corrupt files) and keeps the first
// `limit` items (0 = all).
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(ItemPool train, LoadFashionMnistItems(
//       "/usr/share/datasets/fashion-mnist", FashionMnistOptions::Split::kTrain, /*limit=*/0));
absl::StatusOr<ItemPool> LoadFashionMnistItems(const std::string& root,
                                               FashionMnistOptions::Split split, int64_t limit);

}  // namespace mochi::data::scenes

#endif  // MOCHI_DATA_SCENES_FASHION_MNIST_ITEMS_H_
