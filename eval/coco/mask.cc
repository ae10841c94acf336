#include "eval/coco/mask.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"

namespace mochi::eval::coco {
namespace {

// rleFrPoly works on a grid this many times finer than the pixels.
constexpr int kUpsample = 5;
// Bound on the outline points RleFromPolygons will materialise (about 400 MB).
constexpr double kMaxOutlinePoints = 5e7;

// (int)d as x86-64 evaluates it (cvttsd2si): NaN and out-of-range values become INT_MIN.
// rleFrPoly divides 0 by 0 on a repeated vertex, and pycocotools' masks carry the x86 result.
int TruncateLikeX86(double d) {
  if (!(d > -2147483649.0 && d < 2147483648.0)) return std::numeric_limits<int>::min();
  return static_cast<int>(d);
}

uint64_t CountsSum(const std::vector<uint32_t>& counts) {
  uint64_t sum = 0;
  for (uint32_t c : counts) sum += c;
  return sum;
}

// Walks two RLEs of equal total length in lockstep, calling visit(length, in_a, in_b) for each
// stretch over which neither changes, in the same steps as maskApi.c's merge and IoU loops
// (including the zero-length first step when a mask starts with foreground).
template <typename Visitor>
void WalkRunPairs(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b, Visitor visit) {
  uint32_t left_a = a.empty() ? 0 : a[0];
  uint32_t left_b = b.empty() ? 0 : b[0];
  size_t next_a = 1;
  size_t next_b = 1;
  bool in_a = false;
  bool in_b = false;
  // Each pass consumes a run of a or b, so this bounds the loop even for malformed input.
  for (size_t passes = 0; passes <= a.size() + b.size(); ++passes) {
    const uint32_t step = std::min(left_a, left_b);
    visit(step, in_a, in_b);
    left_a -= step;
    if (left_a == 0 && next_a < a.size()) {
      left_a = a[next_a++];
      in_a = !in_a;
    }
    left_b -= step;
    if (left_b == 0 && next_b < b.size()) {
      left_b = b[next_b++];
      in_b = !in_b;
    }
    if (left_a == 0 && left_b == 0) return;
  }
}

Rle MergePair(const Rle& a, const Rle& b, bool intersect) {
  Rle merged{a.height, a.width, {}};
  bool output_on = false;
  uint32_t pending = 0;
  WalkRunPairs(a.counts, b.counts, [&](uint32_t length, bool in_a, bool in_b) {
    const bool on = intersect ? (in_a && in_b) : (in_a || in_b);
    if (on != output_on) {
      merged.counts.push_back(pending);
      pending = 0;
      output_on = on;
    }
    pending += length;
  });
  merged.counts.push_back(pending);
  return merged;
}

}  // namespace

absl::Status ValidateRle(const Rle& rle) {
  const uint64_t expected = static_cast<uint64_t>(rle.height) * rle.width;
  const uint64_t sum = CountsSum(rle.counts);
  if (sum != expected) {
    return absl::InvalidArgumentError(absl::StrCat("RLE counts add up to ", sum, " but size is ",
                                                   rle.height, "x", rle.width, " = ", expected));
  }
  return absl::OkStatus();
}

Rle EncodeMask(const BinaryMask& mask) {
  Rle rle{mask.height, mask.width, {}};
  bool current = false;
  uint32_t run = 0;
  for (uint32_t x = 0; x < mask.width; ++x) {
    for (uint32_t y = 0; y < mask.height; ++y) {
      const bool on = mask.at(x, y);
      if (on != current) {
        rle.counts.push_back(run);
        run = 0;
        current = on;
      }
      ++run;
    }
  }
  rle.counts.push_back(run);
  return rle;
}

BinaryMask DecodeRle(const Rle& rle) {
  BinaryMask mask{rle.height, rle.width,
                  std::vector<uint8_t>(static_cast<size_t>(rle.height) * rle.width, 0)};
  uint64_t position = 0;  // column-major index
  bool on = false;
  for (uint32_t count : rle.counts) {
    for (uint32_t i = 0; i < count && position < mask.pixels.size(); ++i, ++position) {
      if (!on) continue;
      const uint64_t x = position / rle.height;
      const uint64_t y = position % rle.height;
      mask.pixels[y * rle.width + x] = 1;
    }
    on = !on;
  }
  return mask;
}

std::string EncodeRleCounts(const Rle& rle) {
  std::string out;
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    int64_t value = rle.counts[i];
    if (i > 2) value -= static_cast<int64_t>(rle.counts[i - 2]);
    for (bool more = true; more;) {
      int group = static_cast<int>(value & 0x1f);
      value >>= 5;  // arithmetic shift keeps the sign
      more = (group & 0x10) ? value != -1 : value != 0;
      if (more) group |= 0x20;
      out.push_back(static_cast<char>(group + 48));
    }
  }
  return out;
}

absl::StatusOr<Rle> DecodeRleCounts(absl::string_view counts, uint32_t height, uint32_t width) {
  Rle rle{height, width, {}};
  size_t pos = 0;
  while (pos < counts.size()) {
    int64_t value = 0;
    int shift = 0;
    for (bool more = true; more; shift += 5) {
      if (pos >= counts.size()) {
        return absl::InvalidArgumentError("compressed RLE counts end in the middle of a count");
      }
      const int group = static_cast<unsigned char>(counts[pos]) - 48;
      if (group < 0 || group > 63) {
        return absl::InvalidArgumentError(absl::StrCat("compressed RLE counts: character '",
                                                       counts.substr(pos, 1), "' at offset ", pos,
                                                       " is outside '0'..'o'"));
      }
      if (shift > 35) {
        return absl::InvalidArgumentError("compressed RLE counts: a count has too many digits");
      }
      ++pos;
      value |= static_cast<int64_t>(group & 0x1f) << shift;
      more = (group & 0x20) != 0;
      if (!more && (group & 0x10)) value |= -(int64_t{1} << (shift + 5));  // sign-extend
    }
    if (rle.counts.size() > 2) value += rle.counts[rle.counts.size() - 2];
    if (value < 0 || value > std::numeric_limits<uint32_t>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat("compressed RLE counts: count ", rle.counts.size(), " decodes to ", value));
    }
    rle.counts.push_back(static_cast<uint32_t>(value));
  }
  absl::Status valid = ValidateRle(rle);
  if (!valid.ok()) return valid;
  return rle;
}

Rle RleFromPolygon(absl::Span<const double> xy, uint32_t height, uint32_t width) {
  const size_t num_vertices = xy.size() / 2;
  if (num_vertices == 0) return Rle{height, width, {height * width}};

  // 1. Vertices on the fine grid, rounded half up with C's truncating cast; the outline is closed.
  std::vector<int> vx(num_vertices + 1);
  std::vector<int> vy(num_vertices + 1);
  for (size_t j = 0; j < num_vertices; ++j) {
    vx[j] = TruncateLikeX86(kUpsample * xy[2 * j] + .5);
    vy[j] = TruncateLikeX86(kUpsample * xy[2 * j + 1] + .5);
  }
  vx[num_vertices] = vx[0];
  vy[num_vertices] = vy[0];

  // 2. Every fine-grid point along the outline: each edge is stepped along its longer axis, always
  // in increasing coordinate, with the other coordinate rounded from the slope.
  std::vector<int> px;
  std::vector<int> py;
  for (size_t j = 0; j < num_vertices; ++j) {
    int xs = vx[j], xe = vx[j + 1], ys = vy[j], ye = vy[j + 1];
    const int dx = std::abs(xe - xs);
    const int dy = std::abs(ys - ye);
    const bool x_major = dx >= dy;
    const bool reversed = (x_major && xs > xe) || (!x_major && ys > ye);
    if (reversed) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    const double slope =
        x_major ? static_cast<double>(ye - ys) / dx : static_cast<double>(xe - xs) / dy;
    const int steps = x_major ? dx : dy;
    for (int d = 0; d <= steps; ++d) {
      const int t = reversed ? steps - d : d;
      if (x_major) {
        px.push_back(t + xs);
        py.push_back(TruncateLikeX86(ys + slope * t + .5));
      } else {
        py.push_back(t + ys);
        px.push_back(TruncateLikeX86(xs + slope * t + .5));
      }
    }
  }

  // 3. Where the outline crosses a pixel column centre, a run boundary at the first pixel centre
  // at or below the crossing (clamped to the canvas). Crossings off the canvas are dropped.
  std::vector<uint32_t> boundaries;
  for (size_t j = 1; j < px.size(); ++j) {
    if (px[j] == px[j - 1]) continue;
    double xd = px[j] < px[j - 1] ? px[j] : px[j] - 1;
    xd = (xd + .5) / kUpsample - .5;
    if (std::floor(xd) != xd || xd < 0 || xd > static_cast<double>(width) - 1) continue;
    double yd = std::min(py[j], py[j - 1]);
    yd = (yd + .5) / kUpsample - .5;
    if (yd < 0) {
      yd = 0;
    } else if (yd > height) {
      yd = height;
    }
    yd = std::ceil(yd);
    boundaries.push_back(static_cast<uint32_t>(static_cast<int>(xd) * static_cast<int>(height) +
                                               static_cast<int>(yd)));
  }
  boundaries.push_back(height * width);
  std::sort(boundaries.begin(), boundaries.end());

  // 4. Boundaries to run lengths. A zero-length run (two boundaries at one position) is dropped
  // and the run after it is added to the run before it, exactly as the C code does.
  std::vector<uint32_t> gaps(boundaries.size());
  uint32_t previous = 0;
  for (size_t j = 0; j < boundaries.size(); ++j) {
    gaps[j] = boundaries[j] - previous;
    previous = boundaries[j];
  }
  Rle rle{height, width, {gaps[0]}};
  for (size_t j = 1; j < gaps.size();) {
    if (gaps[j] > 0) {
      rle.counts.push_back(gaps[j++]);
    } else if (++j < gaps.size()) {
      rle.counts.back() += gaps[j++];
    }
  }
  return rle;
}

Rle RleFromBox(const Box& box, uint32_t height, uint32_t width) {
  const double x0 = box.x, x1 = box.x + box.w, y0 = box.y, y1 = box.y + box.h;
  const double corners[8] = {x0, y0, x0, y1, x1, y1, x1, y0};
  return RleFromPolygon(corners, height, width);
}

absl::StatusOr<Rle> RleFromPolygons(const std::vector<std::vector<double>>& polygons,
                                    int64_t height, int64_t width) {
  if (polygons.empty()) return absl::InvalidArgumentError("empty list of polygons");
  if (height <= 0 || width <= 0 || height * width > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("polygons need a canvas with positive height and width and fewer than 2^31 "
                     "pixels, got ",
                     height, "x", width));
  }
  for (const std::vector<double>& xy : polygons) {
    for (double v : xy) {
      if (!(std::fabs(v) <= kMaxPolygonCoordinate)) {
        return absl::InvalidArgumentError(
            absl::StrCat("polygon coordinate ", v, " is outside +-", kMaxPolygonCoordinate));
      }
    }
  }
  // rleFrPoly materialises every point of the outline on the 5x grid; refuse absurd outlines.
  double outline_points = 0;
  for (const std::vector<double>& xy : polygons) {
    const size_t n = xy.size() / 2;
    for (size_t j = 0; j < n; ++j) {
      const size_t next = (j + 1) % n;
      outline_points += kUpsample * std::max(std::fabs(xy[2 * next] - xy[2 * j]),
                                             std::fabs(xy[2 * next + 1] - xy[2 * j + 1])) +
                        2;
    }
  }
  if (outline_points > kMaxOutlinePoints) {
    return absl::InvalidArgumentError(
        absl::StrCat("polygon outlines are too long (", outline_points, " grid points)"));
  }
  const auto h = static_cast<uint32_t>(height);
  const auto w = static_cast<uint32_t>(width);
  const bool boxes = polygons[0].size() == 4;
  if (!boxes && polygons[0].size() < 6) {
    return absl::InvalidArgumentError(
        "a polygon needs at least 3 points [x0, y0, x1, y1, x2, y2, ...]");
  }
  std::vector<Rle> parts;
  for (const std::vector<double>& xy : polygons) {
    if (boxes) {
      if (xy.size() != 4) {
        return absl::InvalidArgumentError(
            "the first entry has 4 numbers, so this is a list of boxes, but another entry is not "
            "[x, y, width, height]");
      }
      parts.push_back(RleFromBox(Box{xy[0], xy[1], xy[2], xy[3]}, h, w));
    } else if (xy.empty() || xy.size() % 2 != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("a polygon needs an even, nonzero number of coordinates, got ", xy.size()));
    } else {
      parts.push_back(RleFromPolygon(xy, h, w));
    }
  }
  return MergeRles(parts, /*intersect=*/false);
}

absl::StatusOr<Rle> MergeRles(absl::Span<const Rle> rles, bool intersect) {
  if (rles.empty()) return Rle{};
  Rle merged = rles[0];
  for (size_t i = 1; i < rles.size(); ++i) {
    if (rles[i].height != merged.height || rles[i].width != merged.width) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot merge masks of different sizes: ", merged.height, "x", merged.width,
                       " and ", rles[i].height, "x", rles[i].width));
    }
    merged = MergePair(merged, rles[i], intersect);
  }
  return merged;
}

uint64_t RleArea(const Rle& rle) {
  uint64_t area = 0;
  for (size_t j = 1; j < rle.counts.size(); j += 2) area += rle.counts[j];
  return area;
}

Box RleToBox(const Rle& rle) {
  // Only whole (background, foreground) pairs count; a trailing background run adds nothing.
  const size_t num_runs = rle.counts.size() / 2 * 2;
  if (num_runs == 0 || rle.height == 0) return Box{};
  // Unsigned 32-bit arithmetic as in the C code.
  const uint32_t h = rle.height;
  uint32_t x_min = rle.width, y_min = h, x_max = 0, y_max = 0;
  uint32_t end = 0;
  uint32_t run_start_x = 0;
  for (size_t j = 0; j < num_runs; ++j) {
    end += rle.counts[j];
    // Even j: first pixel of a foreground run; odd j: its last pixel.
    const uint32_t pixel = end - static_cast<uint32_t>(j % 2);
    const uint32_t y = pixel % h;
    const uint32_t x = (pixel - y) / h;
    if (j % 2 == 0) {
      run_start_x = x;
    } else if (run_start_x < x) {
      y_min = 0;  // the run wraps over a column end, so it covers full columns
      y_max = h - 1;
    }
    x_min = std::min(x_min, x);
    x_max = std::max(x_max, x);
    y_min = std::min(y_min, y);
    y_max = std::max(y_max, y);
  }
  return Box{static_cast<double>(x_min), static_cast<double>(y_min),
             static_cast<double>(x_max - x_min + 1), static_cast<double>(y_max - y_min + 1)};
}

double BoxIou(const Box& detection, const Box& ground_truth, bool ground_truth_is_crowd) {
  const Box& d = detection;
  const Box& g = ground_truth;
  const double detection_area = d.w * d.h;
  const double ground_truth_area = g.w * g.h;
  const double overlap_w = std::fmin(d.w + d.x, g.w + g.x) - std::fmax(d.x, g.x);
  if (overlap_w <= 0) return 0;
  const double overlap_h = std::fmin(d.h + d.y, g.h + g.y) - std::fmax(d.y, g.y);
  if (overlap_h <= 0) return 0;
  const double intersection = overlap_w * overlap_h;
  const double denominator =
      ground_truth_is_crowd ? detection_area : detection_area + ground_truth_area - intersection;
  return intersection / denominator;
}

double RleIou(const Rle& detection, const Rle& ground_truth, bool ground_truth_is_crowd) {
  if (!(BoxIou(RleToBox(detection), RleToBox(ground_truth), ground_truth_is_crowd) > 0)) return 0;
  if (detection.height != ground_truth.height || detection.width != ground_truth.width) return -1;
  uint32_t intersection = 0;
  uint32_t union_area = 0;
  WalkRunPairs(detection.counts, ground_truth.counts,
               [&](uint32_t length, bool in_detection, bool in_ground_truth) {
                 if (in_detection || in_ground_truth) union_area += length;
                 if (in_detection && in_ground_truth) intersection += length;
               });
  if (intersection == 0) {
    union_area = 1;
  } else if (ground_truth_is_crowd) {
    union_area = static_cast<uint32_t>(RleArea(detection));
  }
  return static_cast<double>(intersection) / static_cast<double>(union_area);
}

}  // namespace mochi::eval::coco
