#include "eval/scenes/polygon.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace mochi::eval::scenes {
namespace {

// Edge directions in image coordinates (y down). Turning right is +1 (mod 4).
enum Direction { kEast = 0, kSouth = 1, kWest = 2, kNorth = 3 };
constexpr int kDx[4] = {1, 0, -1, 0};
constexpr int kDy[4] = {0, 1, 0, -1};

struct Point {
  int x;
  int y;
};

// Labels 4-connected components in raster order of their first pixel (labels 1..n, 0 = off).
int LabelComponents(const Mask& mask, std::vector<int>* labels) {
  const int w = mask.width, h = mask.height;
  labels->assign(static_cast<size_t>(w) * h, 0);
  std::vector<int> stack;
  int next = 0;
  for (int start = 0; start < w * h; ++start) {
    if (mask.bits[start] == 0 || (*labels)[start] != 0) continue;
    ++next;
    (*labels)[start] = next;
    stack.push_back(start);
    while (!stack.empty()) {
      const int p = stack.back();
      stack.pop_back();
      const int x = p % w, y = p / w;
      for (int d = 0; d < 4; ++d) {
        const int nx = x + kDx[d], ny = y + kDy[d];
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const int q = ny * w + nx;
        if (mask.bits[q] == 0 || (*labels)[q] != 0) continue;
        (*labels)[q] = next;
        stack.push_back(q);
      }
    }
  }
  return next;
}

int64_t TwiceSignedArea(const std::vector<Point>& loop) {
  int64_t sum = 0;
  for (size_t i = 0; i < loop.size(); ++i) {
    const Point& a = loop[i];
    const Point& b = loop[(i + 1) % loop.size()];
    sum += static_cast<int64_t>(a.x) * b.y - static_cast<int64_t>(b.x) * a.y;
  }
  return sum;
}

// Outline loops of one component, on a vertex grid covering its bounding box. Edges keep the
// component on their right, so outer loops have positive signed area (y down) and holes
// negative.
std::vector<std::vector<Point>> TraceComponent(const std::vector<int>& labels, int image_width,
                                               int label, int x0, int y0, int x1, int y1) {
  const int gw = x1 - x0 + 2, gh = y1 - y0 + 2;  // vertex grid (pixels + 1)
  std::vector<uint8_t> out(static_cast<size_t>(gw) * gh, 0);
  auto in_component = [&](int x, int y) {
    return x >= x0 && x <= x1 && y >= y0 && y <= y1 &&
           labels[static_cast<size_t>(y) * image_width + x] == label;
  };
  auto add = [&](int vx, int vy, int dir) {
    out[static_cast<size_t>(vy - y0) * gw + (vx - x0)] |= 1 << dir;
  };
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      if (!in_component(x, y)) continue;
      if (!in_component(x, y - 1)) add(x, y, kEast);
      if (!in_component(x + 1, y)) add(x + 1, y, kSouth);
      if (!in_component(x, y + 1)) add(x + 1, y + 1, kWest);
      if (!in_component(x - 1, y)) add(x, y + 1, kNorth);
    }
  }
  const std::vector<uint8_t> original = out;
  // At a vertex two diagonal pixels share, prefer the right turn: the outline then stays around
  // the same pixel, which keeps the component 4-connected and its holes 8-connected. The choice
  // is a fixed pairing of incoming with outgoing edges, so it uses the original edge set.
  auto next_direction = [&](int vx, int vy, int incoming) {
    const uint8_t bits = original[static_cast<size_t>(vy - y0) * gw + (vx - x0)];
    for (int turn : {1, 0, 3}) {
      const int dir = (incoming + turn) % 4;
      if ((bits >> dir) & 1) return dir;
    }
    return -1;  // unreachable: every vertex has as many outgoing as incoming edges
  };

  std::vector<std::vector<Point>> loops;
  for (int gy = 0; gy < gh; ++gy) {
    for (int gx = 0; gx < gw; ++gx) {
      while (out[static_cast<size_t>(gy) * gw + gx] != 0) {
        const uint8_t bits = out[static_cast<size_t>(gy) * gw + gx];
        int start_dir = 0;
        while (((bits >> start_dir) & 1) == 0) ++start_dir;
        const int sx = gx + x0, sy = gy + y0;
        std::vector<Point> loop;
        int vx = sx, vy = sy, dir = start_dir;
        while (true) {
          out[static_cast<size_t>(vy - y0) * gw + (vx - x0)] &= ~(1 << dir);
          vx += kDx[dir];
          vy += kDy[dir];
          const int next = next_direction(vx, vy, dir);
          if (next < 0) break;
          if (next != dir) loop.push_back({vx, vy});
          dir = next;
          if (vx == sx && vy == sy && dir == start_dir) break;
        }
        // The start vertex was recorded last; list it first.
        if (!loop.empty() && loop.back().x == sx && loop.back().y == sy) {
          std::rotate(loop.begin(), loop.end() - 1, loop.end());
        }
        loops.push_back(std::move(loop));
      }
    }
  }
  return loops;
}

// Splices `hole` into `polygon` through a zero-width bridge between their closest vertices.
void SpliceHole(const std::vector<Point>& hole, std::vector<Point>* polygon) {
  size_t best_p = 0, best_h = 0;
  int64_t best = -1;
  for (size_t p = 0; p < polygon->size(); ++p) {
    for (size_t h = 0; h < hole.size(); ++h) {
      const int64_t dx = (*polygon)[p].x - hole[h].x, dy = (*polygon)[p].y - hole[h].y;
      const int64_t d2 = dx * dx + dy * dy;
      if (best < 0 || d2 < best) {
        best = d2;
        best_p = p;
        best_h = h;
      }
    }
  }
  std::vector<Point> spliced;
  spliced.reserve(polygon->size() + hole.size() + 2);
  spliced.insert(spliced.end(), polygon->begin(), polygon->begin() + best_p + 1);
  for (size_t k = 0; k <= hole.size(); ++k) spliced.push_back(hole[(best_h + k) % hole.size()]);
  spliced.insert(spliced.end(), polygon->begin() + best_p, polygon->end());
  *polygon = std::move(spliced);
}

}  // namespace

std::vector<std::vector<int>> TraceMaskPolygons(const Mask& mask) {
  // Work on the mask's tight box: instance masks are canvas-sized but mostly empty.
  const Box box = TightBox(mask);
  if (box.width == 0) return {};
  Mask crop(box.height, box.width);
  for (int y = 0; y < box.height; ++y) {
    for (int x = 0; x < box.width; ++x) crop.set(x, y, mask.at(box.x + x, box.y + y));
  }
  std::vector<int> labels;
  const int num_components = LabelComponents(crop, &labels);
  const int w = crop.width;
  // Bounding boxes of the components.
  std::vector<int> x0(num_components + 1, w), y0(num_components + 1, crop.height);
  std::vector<int> x1(num_components + 1, -1), y1(num_components + 1, -1);
  for (int y = 0; y < crop.height; ++y) {
    for (int x = 0; x < w; ++x) {
      const int label = labels[static_cast<size_t>(y) * w + x];
      if (label == 0) continue;
      x0[label] = std::min(x0[label], x);
      x1[label] = std::max(x1[label], x);
      y0[label] = std::min(y0[label], y);
      y1[label] = std::max(y1[label], y);
    }
  }
  std::vector<std::vector<int>> polygons;
  for (int label = 1; label <= num_components; ++label) {
    std::vector<std::vector<Point>> loops =
        TraceComponent(labels, w, label, x0[label], y0[label], x1[label], y1[label]);
    // Exactly one loop of a 4-connected component is its outer outline (positive area).
    std::vector<Point> polygon;
    std::vector<const std::vector<Point>*> holes;
    for (const std::vector<Point>& loop : loops) {
      if (TwiceSignedArea(loop) > 0) {
        polygon = loop;
      } else {
        holes.push_back(&loop);
      }
    }
    for (const std::vector<Point>* hole : holes) SpliceHole(*hole, &polygon);
    std::vector<int> flat;
    flat.reserve(polygon.size() * 2);
    for (const Point& p : polygon) {
      flat.push_back(p.x + box.x);
      flat.push_back(p.y + box.y);
    }
    polygons.push_back(std::move(flat));
  }
  return polygons;
}

}  // namespace mochi::eval::scenes
