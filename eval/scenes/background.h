// Procedural backgrounds of the Fashion-MNIST scenes (no image files, no new packages).
#ifndef EVAL_SCENES_BACKGROUND_H_
#define EVAL_SCENES_BACKGROUND_H_

#include <cstdint>
#include <vector>

namespace mochi::eval::scenes {

// RenderBackground returns a canvas x canvas x 3 RGB texture (row-major) drawn from `seed`:
// one of smooth value noise, stripes at one of 8 angles, a linear gradient or a checkerboard,
// blending two random colours (channels in 0..220), plus per-pixel noise of random amplitude.
// Integer arithmetic only, so the bytes are the same on every machine. Every scene draws its
// own background, so train and val scenes never share one.
//
// Example:
//   std::vector<uint8_t> rgb = RenderBackground(192, data::MixSeed(scene_seed, 0));
std::vector<uint8_t> RenderBackground(int canvas, uint64_t seed);

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_BACKGROUND_H_
