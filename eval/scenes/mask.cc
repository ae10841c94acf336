#include "eval/scenes/mask.h"

#include <algorithm>

namespace mochi::eval::scenes {

int64_t Area(const Mask& mask) {
  int64_t area = 0;
  for (uint8_t bit : mask.bits) area += bit != 0;
  return area;
}

Box TightBox(const Mask& mask) {
  int xmin = mask.width, ymin = mask.height, xmax = -1, ymax = -1;
  for (int y = 0; y < mask.height; ++y) {
    const uint8_t* row = mask.bits.data() + static_cast<size_t>(y) * mask.width;
    for (int x = 0; x < mask.width; ++x) {
      if (row[x] == 0) continue;
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymin = std::min(ymin, y);
      ymax = std::max(ymax, y);
    }
  }
  if (xmax < 0) return Box{};
  return Box{xmin, ymin, xmax - xmin + 1, ymax - ymin + 1};
}

}  // namespace mochi::eval::scenes
