// Binary masks in the COCO API's run-length encoding (RLE), with every convention that changes a
// number reproduced, so areas, boxes and IoUs equal pycocotools' (maskApi.c):
//   * pixels are visited column by column (Fortran order): pixel (x, y) has index x * height + y;
//   * counts alternate background and foreground runs, starting with a background run that may be
//     empty;
//   * polygons are rasterised like rleFrPoly: on a 5x finer grid, with its rounding, not a generic
//     scanline fill;
//   * the compressed "counts" string packs each count, after index 2 delta-coded against the count
//     two places back, into 5-bit groups written as characters 48 + group (0x20 = more groups
//     follow, 0x10 of the last group = negative).
//
// Example:
//   Rle rle = RleFromPolygon({2, 2, 20, 3, 8, 18}, /*height=*/24, /*width=*/32);
//   RleArea(rle);          // 141
//   RleToBox(rle);         // {2, 2, 18, 15}
//   EncodeRleCounts(rle);  // "b11g03M3M2N3M3M00O1O2N1N2O1O1O1N2O1O1On8"
#ifndef EVAL_COCO_MASK_H_
#define EVAL_COCO_MASK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace mochi::eval::coco {

// A binary mask as COCO run lengths. Valid when the counts add up to height * width.
struct Rle {
  uint32_t height = 0;
  uint32_t width = 0;
  std::vector<uint32_t> counts;

  bool operator==(const Rle& other) const {
    return height == other.height && width == other.width && counts == other.counts;
  }
};

// A mask as pixels, row-major: pixels[y * width + x], nonzero = foreground.
struct BinaryMask {
  uint32_t height = 0;
  uint32_t width = 0;
  std::vector<uint8_t> pixels;

  bool at(uint32_t x, uint32_t y) const { return pixels[static_cast<size_t>(y) * width + x] != 0; }
};

// A COCO box [x, y, width, height] in continuous pixel coordinates (no +1 anywhere).
struct Box {
  double x = 0;
  double y = 0;
  double w = 0;
  double h = 0;

  bool operator==(const Box& other) const {
    return x == other.x && y == other.y && w == other.w && h == other.h;
  }
};

// InvalidArgument unless the counts add up to height * width (pycocotools does not check, but
// every run walker below relies on it).
absl::Status ValidateRle(const Rle& rle);

// rleEncode / rleDecode. DecodeRle expects a valid RLE.
Rle EncodeMask(const BinaryMask& mask);
BinaryMask DecodeRle(const Rle& rle);

// The compressed counts string (rleToString), and back (rleFrString). Decoding returns
// InvalidArgument for characters outside '0'..'o', a truncated last count, a count outside
// [0, 2^32) or counts that do not add up to height * width.
std::string EncodeRleCounts(const Rle& rle);
absl::StatusOr<Rle> DecodeRleCounts(absl::string_view counts, uint32_t height, uint32_t width);

// rleFrPoly: one polygon [x0, y0, x1, y1, ...] (at least one vertex) rasterised onto a
// height x width canvas; parts outside the canvas are clipped. Callers keep |coordinates| below
// kMaxPolygonCoordinate and height * width below 2^31, as the C code's int arithmetic needs.
inline constexpr double kMaxPolygonCoordinate = 1e6;
Rle RleFromPolygon(absl::Span<const double> xy, uint32_t height, uint32_t width);

// A "segmentation" list of polygons as pycocotools reads it (frPyObjects, then merge): each
// polygon is rasterised and the parts are united. As in pycocotools, a list whose first entry has
// exactly 4 numbers is read as boxes [x, y, w, h]. InvalidArgument for an empty list, a first
// polygon of fewer than 3 points, an odd number of coordinates, a coordinate beyond
// kMaxPolygonCoordinate, outlines of more than 5e7 points on the 5x grid, or a canvas that is empty
// or has 2^31 pixels or more.
absl::StatusOr<Rle> RleFromPolygons(const std::vector<std::vector<double>>& polygons,
                                    int64_t height, int64_t width);

// rleFrBbox: the box as the polygon of its four corners.
Rle RleFromBox(const Box& box, uint32_t height, uint32_t width);

// rleMerge: union (or intersection) of same-size RLEs; the union is how several polygons of one
// object become one mask. InvalidArgument when sizes differ (pycocotools returns an empty 0x0
// mask).
absl::StatusOr<Rle> MergeRles(absl::Span<const Rle> rles, bool intersect);

// rleArea: the number of foreground pixels.
uint64_t RleArea(const Rle& rle);

// rleToBbox: the tight box of the foreground pixels ({0, 0, 0, 0} when empty); a foreground run
// that spans several columns widens the box to the full height, as in the C code.
Box RleToBox(const Rle& rle);

// bbIou for one pair: intersection over union, or over the detection's area when the ground truth
// is a crowd region. 0 when the boxes do not overlap.
double BoxIou(const Box& detection, const Box& ground_truth, bool ground_truth_is_crowd);

// rleIou for one pair, same crowd rule. As in the C code the tight boxes are compared first: boxes
// that do not overlap give 0, and otherwise masks of different sizes give -1.
double RleIou(const Rle& detection, const Rle& ground_truth, bool ground_truth_is_crowd);

}  // namespace mochi::eval::coco

#endif  // EVAL_COCO_MASK_H_
