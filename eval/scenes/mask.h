// Binary masks and pixel boxes of the Fashion-MNIST scenes.
//
// Coordinates follow COCO: pixel (x, y) covers the continuous square [x, x+1] x [y, y+1], x
// grows to the right and y downwards. A Box is a tight pixel box: it covers columns
// x .. x+width-1 and rows y .. y+height-1, so width = xmax - xmin + 1 (pycocotools toBbox).
#ifndef EVAL_SCENES_MASK_H_
#define EVAL_SCENES_MASK_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mochi::eval::scenes {

// Mask is a height x width binary image stored row-major (bits[y * width + x] is 0 or 1).
//
// Example:
//   Mask mask(/*height=*/4, /*width=*/5);
//   mask.set(1, 2);            // x = 1, y = 2
//   Box box = TightBox(mask);  // {1, 2, 1, 1}
struct Mask {
  Mask() = default;
  Mask(int height, int width)
      : height(height), width(width), bits(static_cast<size_t>(height) * width, 0) {}

  bool at(int x, int y) const { return bits[static_cast<size_t>(y) * width + x] != 0; }
  void set(int x, int y, bool value = true) {
    bits[static_cast<size_t>(y) * width + x] = value ? 1 : 0;
  }

  bool operator==(const Mask& other) const {
    return height == other.height && width == other.width && bits == other.bits;
  }
  bool operator!=(const Mask& other) const { return !(*this == other); }

  int height = 0;
  int width = 0;
  std::vector<uint8_t> bits;
};

// Box is a tight integer pixel box (see the file comment); width == 0 means empty.
struct Box {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;

  bool operator==(const Box& other) const {
    return x == other.x && y == other.y && width == other.width && height == other.height;
  }
  bool operator!=(const Box& other) const { return !(*this == other); }
};

// Area returns the number of set pixels.
int64_t Area(const Mask& mask);

// TightBox returns the smallest box holding every set pixel, or {0, 0, 0, 0} for an empty mask
// (as pycocotools toBbox does).
Box TightBox(const Mask& mask);

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_MASK_H_
