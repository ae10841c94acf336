// Loads a Fashion-MNIST split (Debian's dataset-fashion-mnist) as an ItemPool.
#ifndef EVAL_SCENES_FASHION_MNIST_ITEMS_H_
#define EVAL_SCENES_FASHION_MNIST_ITEMS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "eval/scenes/item_pool.h"
#include "mochi/data/fashion_mnist.h"

namespace mochi::eval::scenes {

// LoadFashionMnistItems reads `split` under `root` through data::FashionMnist::Load (same checks
// and messages: NotFound when the package is missing, DataLoss on corrupt files) and keeps the
// first `limit` items (0 = all).
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(ItemPool train, LoadFashionMnistItems(
//       "/usr/share/datasets/fashion-mnist", data::FashionMnistOptions::Split::kTrain,
//       /*limit=*/0));
absl::StatusOr<ItemPool> LoadFashionMnistItems(const std::string& root,
                                               data::FashionMnistOptions::Split split,
                                               int64_t limit);

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_FASHION_MNIST_ITEMS_H_
