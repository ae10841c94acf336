#include "eval/scenes/background.h"

#include <algorithm>
#include <array>

#include "mochi/data/rng.h"

namespace mochi::eval::scenes {
namespace {

using Colour = std::array<int, 3>;

// Directions of stripes and gradients: 0, 90, 45, -45 degrees and four steeper/shallower ones.
constexpr int kDirections[8][2] = {{1, 0}, {0, 1}, {1, 1},  {1, -1},
                                   {2, 1}, {1, 2}, {2, -1}, {1, -2}};

Colour RandomColour(data::Rng& rng) {
  return {static_cast<int>(rng.UniformInt(221)), static_cast<int>(rng.UniformInt(221)),
          static_cast<int>(rng.UniformInt(221))};
}

// Blends a and b with weight t in [0, 256] (256 = b).
inline int Blend(int a, int b, int t) { return (a * (256 - t) + b * t + 128) >> 8; }

}  // namespace

std::vector<uint8_t> RenderBackground(int canvas, uint64_t seed) {
  data::Rng rng(seed);
  const int kind = static_cast<int>(rng.UniformInt(4));
  const Colour a = RandomColour(rng);
  const Colour b = RandomColour(rng);
  // t[y * canvas + x] in [0, 256]: how much of colour b each pixel gets.
  std::vector<int> t(static_cast<size_t>(canvas) * canvas, 0);
  switch (kind) {
    case 0: {  // smooth value noise: random weights on a lattice, bilinearly interpolated
      const int cell = 16 + static_cast<int>(rng.UniformInt(49));
      const int nodes = canvas / cell + 2;
      std::vector<int> lattice(static_cast<size_t>(nodes) * nodes);
      for (int& v : lattice) v = static_cast<int>(rng.UniformInt(257));
      std::vector<int> cells(canvas), fractions(canvas);  // same for rows and columns
      for (int i = 0; i < canvas; ++i) {
        cells[i] = i / cell;
        fractions[i] = (i % cell) * 256 / cell;
      }
      for (int y = 0; y < canvas; ++y) {
        const int* row0 = lattice.data() + cells[y] * nodes;
        const int* row1 = row0 + nodes;
        for (int x = 0; x < canvas; ++x) {
          const int gx = cells[x], fx = fractions[x];
          const int top = Blend(row0[gx], row0[gx + 1], fx);
          const int bottom = Blend(row1[gx], row1[gx + 1], fx);
          t[y * canvas + x] = Blend(top, bottom, fractions[y]);
        }
      }
      break;
    }
    case 1: {  // stripes: a triangle wave along a direction
      const int* dir = kDirections[rng.UniformInt(8)];
      const int period = 6 + static_cast<int>(rng.UniformInt(35));
      // The offset keeps the projection positive for every pixel.
      const int offset = static_cast<int>(rng.UniformInt(period)) + period * (2 * canvas + 1);
      for (int y = 0; y < canvas; ++y) {
        for (int x = 0; x < canvas; ++x) {
          const int s = (x * dir[0] + y * dir[1] + offset) % period;
          t[y * canvas + x] = 2 * s < period ? s * 512 / period : (period - s) * 512 / period;
        }
      }
      break;
    }
    case 2: {  // linear gradient along a direction
      const int* dir = kDirections[rng.UniformInt(8)];
      const int last = canvas - 1;
      const int p[4] = {0, last * dir[0], last * dir[1], last * (dir[0] + dir[1])};
      const int lo = *std::min_element(p, p + 4), hi = *std::max_element(p, p + 4);
      for (int y = 0; y < canvas; ++y) {
        for (int x = 0; x < canvas; ++x) {
          t[y * canvas + x] = (x * dir[0] + y * dir[1] - lo) * 256 / (hi - lo);
        }
      }
      break;
    }
    case 3: {  // checkerboard
      const int cell = 8 + static_cast<int>(rng.UniformInt(33));
      const int ox = static_cast<int>(rng.UniformInt(cell));
      const int oy = static_cast<int>(rng.UniformInt(cell));
      for (int y = 0; y < canvas; ++y) {
        for (int x = 0; x < canvas; ++x) {
          t[y * canvas + x] = (((x + ox) / cell + (y + oy) / cell) & 1) != 0 ? 256 : 0;
        }
      }
      break;
    }
  }
  const int amplitude = static_cast<int>(rng.UniformInt(25));
  const int levels = 2 * amplitude + 1;
  // Blend(a, b, t) for every t, per channel.
  std::array<std::array<int, 257>, 3> blend;
  for (int c = 0; c < 3; ++c) {
    for (int w = 0; w <= 256; ++w) blend[c][w] = Blend(a[c], b[c], w) - amplitude;
  }
  std::vector<uint8_t> rgb(static_cast<size_t>(canvas) * canvas * 3);
  for (size_t p = 0; p < t.size(); ++p) {
    // One draw per pixel: three 16-bit fields scaled to [0, 2 * amplitude].
    const uint64_t noise = rng.NextU64();
    const int n0 = static_cast<int>(((noise & 0xffff) * levels) >> 16);
    const int n1 = static_cast<int>((((noise >> 16) & 0xffff) * levels) >> 16);
    const int n2 = static_cast<int>((((noise >> 32) & 0xffff) * levels) >> 16);
    rgb[p * 3 + 0] = static_cast<uint8_t>(std::clamp(blend[0][t[p]] + n0, 0, 255));
    rgb[p * 3 + 1] = static_cast<uint8_t>(std::clamp(blend[1][t[p]] + n1, 0, 255));
    rgb[p * 3 + 2] = static_cast<uint8_t>(std::clamp(blend[2][t[p]] + n2, 0, 255));
  }
  return rgb;
}

}  // namespace mochi::eval::scenes
