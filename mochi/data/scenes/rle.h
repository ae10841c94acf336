// COCO run-length encoding of binary masks (the `segmentation` of crowd regions and of
// iscrowd=0 instances when written as RLE).
//
// An RLE lists alternating run lengths of 0s and 1s over the pixels in column-major (Fortran)
// order, i.e. down column 0, then column 1, ...; the first run is of 0s and may be empty.
// COCO writes it either uncompressed, {"size": [h, w], "counts": [int, ...]}, or compressed,
// {"size": [h, w], "counts": "string"}. The compressed string is COCO's LEB128-like code
// (pycocotools maskApi.c rleToString/rleFrString): each count, after the first two, is replaced
// by its difference from the count two places earlier (runs of the same value have similar
// lengths); every signed value is written as 5-bit groups, least significant first, one
// character per group: char = 48 + group + 0x20 when more groups follow. The last group's bit
// 0x10 is the sign, so writing stops once the rest is all 0 bits (non-negative) or all 1 bits
// (negative) and that bit agrees.
#ifndef MOCHI_DATA_SCENES_RLE_H_
#define MOCHI_DATA_SCENES_RLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mochi/data/scenes/mask.h"

namespace mochi::data::scenes {

// EncodeRle returns the column-major run lengths of `mask`, starting with a run of 0s. The
// counts sum to height * width; an all-zero mask gives {height * width}.
//
// Example (2 x 2, only (x=1, y=0) set; column-major order is (0,0) (0,1) (1,0) (1,1)):
//   EncodeRle(mask) == {2, 1, 1}
std::vector<uint32_t> EncodeRle(const Mask& mask);

// DecodeRle is the inverse of EncodeRle. InvalidArgument if the counts do not sum to
// height * width or a size is negative.
absl::StatusOr<Mask> DecodeRle(int height, int width, const std::vector<uint32_t>& counts);

// RleCountsToString compresses counts to COCO's string form (see the file comment).
//
// Example:
//   RleCountsToString({2, 1, 1}) == "211"
std::string RleCountsToString(const std::vector<uint32_t>& counts);

// RleCountsFromString is the inverse of RleCountsToString. InvalidArgument on a character
// outside '0'..'o' (48..111), a string ending inside a value, or a count that decodes negative.
absl::StatusOr<std::vector<uint32_t>> RleCountsFromString(absl::string_view text);

}  // namespace mochi::data::scenes

#endif  // MOCHI_DATA_SCENES_RLE_H_
