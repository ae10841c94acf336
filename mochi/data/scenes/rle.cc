#include "mochi/data/scenes/rle.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace mochi::data::scenes {

std::vector<uint32_t> EncodeRle(const Mask& mask) {
  std::vector<uint32_t> counts;
  uint8_t current = 0;
  uint32_t run = 0;
  for (int x = 0; x < mask.width; ++x) {
    for (int y = 0; y < mask.height; ++y) {
      const uint8_t bit = mask.at(x, y) ? 1 : 0;
      if (bit != current) {
        counts.push_back(run);
        run = 0;
        current = bit;
      }
      ++run;
    }
  }
  counts.push_back(run);
  return counts;
}

absl::StatusOr<Mask> DecodeRle(int height, int width, const std::vector<uint32_t>& counts) {
  if (height < 0 || width < 0) {
    return absl::InvalidArgumentError(absl::StrCat("rle size [", height, ", ", width, "]"));
  }
  const uint64_t pixels = static_cast<uint64_t>(height) * width;
  uint64_t total = 0;
  for (uint32_t count : counts) total += count;
  if (total != pixels) {
    return absl::InvalidArgumentError(absl::StrCat("rle counts sum to ", total, ", expected ",
                                                   pixels, " for size [", height, ", ", width,
                                                   "]"));
  }
  Mask mask(height, width);
  uint64_t index = 0;  // column-major position
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i % 2 == 1) {
      for (uint64_t k = index; k < index + counts[i]; ++k) {
        mask.set(static_cast<int>(k / height), static_cast<int>(k % height));
      }
    }
    index += counts[i];
  }
  return mask;
}

std::string RleCountsToString(const std::vector<uint32_t>& counts) {
  std::string text;
  for (size_t i = 0; i < counts.size(); ++i) {
    int64_t value = counts[i];
    if (i > 2) value -= counts[i - 2];
    bool more = true;
    while (more) {
      int group = static_cast<int>(value & 0x1f);
      value >>= 5;  // arithmetic shift: a negative value tends to -1
      more = (group & 0x10) != 0 ? value != -1 : value != 0;
      if (more) group |= 0x20;
      text.push_back(static_cast<char>(48 + group));
    }
  }
  return text;
}

absl::StatusOr<std::vector<uint32_t>> RleCountsFromString(absl::string_view text) {
  std::vector<int64_t> values;
  size_t pos = 0;
  while (pos < text.size()) {
    int64_t value = 0;
    int shift = 0;
    bool more = true;
    while (more) {
      if (pos >= text.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("compressed rle \"", text, "\" ends inside a count"));
      }
      const int c = static_cast<unsigned char>(text[pos]) - 48;
      if (c < 0 || c > 0x3f) {
        return absl::InvalidArgumentError(absl::StrCat(
            "compressed rle \"", text, "\" has a character outside '0'..'o' at ", pos));
      }
      if (shift > 55) {
        return absl::InvalidArgumentError(
            absl::StrCat("compressed rle \"", text, "\" has a count too long at ", pos));
      }
      value |= static_cast<int64_t>(c & 0x1f) << shift;
      more = (c & 0x20) != 0;
      ++pos;
      shift += 5;
      // Sign-extend from the last group's 0x10 bit.
      if (!more && (c & 0x10) != 0) value |= -(int64_t{1} << shift);
    }
    if (values.size() > 2) value += values[values.size() - 2];
    if (value < 0 || value > 0xffffffffLL) {
      return absl::InvalidArgumentError(absl::StrCat("compressed rle \"", text, "\": count ",
                                                     values.size(), " decodes to ", value));
    }
    values.push_back(value);
  }
  return std::vector<uint32_t>(values.begin(), values.end());
}

}  // namespace mochi::data::scenes
