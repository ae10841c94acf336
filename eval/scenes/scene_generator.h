// Fashion-MNIST scenes: real Fashion-MNIST items pasted on procedural backgrounds, with boxes
// and masks of their visible parts (docs/evaluation.md).
//
// A scene is a square RGB canvas. Each object is one Fashion-MNIST item resized so its long
// side is L px (L log-uniform, so instances fall in all three COCO area buckets), with aspect
// jitter 0.8-1.25, random horizontal flip, a colour tint (RGB = gray x tint x brightness) and a
// position that may push up to a quarter of it past the canvas edge. Its mask is
// `resized intensity >= 16` with enclosed holes of at most 3 px filled (bag handles and sandal
// straps are real holes and stay open). Objects are pasted in order, later ones in front;
// each instance keeps only its visible pixels (the COCO convention), so visible masks are
// disjoint. Rules, applied from the front object backwards:
//   visible < 25% of the item's mask  -> dropped, and not painted (no unannotated pixels);
//   25% <= visible < 50%              -> difficult (VOC);
//   part of the mask past the edge    -> truncated.
// The image is composited with the same binary masks, so image and annotation agree exactly.
//
// Two tasks:
//   kVoc   1-3 larger objects (L in [0.3, 0.85] x canvas), no crowd;
//   kCoco  2-8 objects, many small (L in [canvas/16, 0.85 x canvas]); in 10% of the images a
//          cluster of 5-9 tiny items of one class behind the objects, annotated as one
//          iscrowd region (the union of their visible pixels).
//
// Determinism: scene `index` of a split is a pure function of (options, pool, split, index),
// computed with integer arithmetic only from SplitMix64 output (mochi/data/rng.h), so it is
// bit-identical on every machine and independent of how many scenes are generated or in which
// order. No std::*_distribution and no floating-point maths are involved.
#ifndef EVAL_SCENES_SCENE_GENERATOR_H_
#define EVAL_SCENES_SCENE_GENERATOR_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/scenes/item_pool.h"
#include "eval/scenes/mask.h"

namespace mochi::eval::scenes {

enum class SceneTask { kVoc, kCoco };
// Train scenes draw from Fashion-MNIST train items, val and test scenes from disjoint halves of
// the test items (see make_scenes.h); the split also enters every scene's seed.
enum class SceneSplit { kTrain, kVal, kTest };

// 0, 1, 2 for train, val, test: part of every scene's seed, and an array index.
int SplitIndex(SceneSplit split);

inline constexpr int kMinCanvas = 64;
inline constexpr int kMaxCanvas = 2048;

struct SceneGeneratorOptions {
  SceneTask task = SceneTask::kCoco;
  int canvas = 192;  // side of the square canvas, px, in [kMinCanvas, kMaxCanvas]
  uint64_t seed = 0;
};

// SceneRecipe holds the per-task distributions; RecipeFor derives them from task and canvas.
struct SceneRecipe {
  int min_objects = 0;  // objects pasted per scene, uniform in [min, max] (before drops)
  int max_objects = 0;
  int min_long_side = 0;  // px; log-uniform (weight 1/L) over integers in [min, max]
  int max_long_side = 0;
  int crowd_per_mille = 0;  // chance of a crowd region per scene, in 1/1000
  int min_crowd_items = 0;
  int max_crowd_items = 0;
  int min_crowd_long_side = 0;
  int max_crowd_long_side = 0;
};

// Example:
//   RecipeFor(SceneTask::kCoco, 192)  // 2-8 objects, L in [12, 163], crowd 100/1000, L 8-13
SceneRecipe RecipeFor(SceneTask task, int canvas);

// SceneInstance is one annotated object or crowd region.
struct SceneInstance {
  int label = 0;  // Fashion-MNIST class 0..9 (see categories.h)
  bool is_crowd = false;
  Mask visible;             // canvas-sized; the instance's visible pixels
  Box box;                  // TightBox(visible)
  int64_t area = 0;         // Area(visible)
  int64_t full_area = 0;    // mask pixels of the whole pasted item(s), inside the canvas or not
  bool difficult = false;   // 25% <= area < 50% of full_area
  bool truncated = false;   // part of the item's mask lies outside the canvas
  int64_t item_index = -1;  // pool index of the pasted item; -1 for a crowd region
};

// Scene is one generated image with its annotations.
struct Scene {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // height x width x 3, row-major
  // Kept objects from back to front, then the crowd region if there is one.
  std::vector<SceneInstance> instances;
  int num_dropped = 0;  // pasted objects (or crowd regions) removed as under 25% visible
};

// PlacedItem is a rendered item at its canvas position (it may extend past the canvas).
struct PlacedItem {
  int label = 0;
  int64_t item_index = -1;
  int x = 0;  // top-left corner on the canvas
  int y = 0;
  int width = 0;
  int height = 0;
  std::vector<uint8_t> alpha;  // width x height, 0 or 1
  std::vector<uint8_t> rgb;    // width x height x 3
};

// ComposeScene applies the occlusion rules of the file comment to `objects` (back to front)
// over `background` (canvas x canvas x 3 bytes), with an optional crowd region made of
// `crowd` items of class `crowd_label` behind all objects. Exposed for tests.
Scene ComposeScene(int canvas, std::vector<uint8_t> background,
                   const std::vector<PlacedItem>& crowd, int crowd_label,
                   const std::vector<PlacedItem>& objects);

// SceneGenerator makes the scenes of one task.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(SceneGenerator generator, SceneGenerator::Create(options));
//   MOCHI_ASSIGN_OR_RETURN(Scene scene, generator.Generate(train_pool, SceneSplit::kTrain, 0));
class SceneGenerator {
 public:
  // InvalidArgument if the canvas is outside [kMinCanvas, kMaxCanvas].
  static absl::StatusOr<SceneGenerator> Create(const SceneGeneratorOptions& options);

  // Scene `index` (>= 0) of `split`, with objects from `pool`. FailedPrecondition for an empty
  // pool, InvalidArgument for a negative index. Thread-safe.
  absl::StatusOr<Scene> Generate(const ItemPool& pool, SceneSplit split, int64_t index) const;

  const SceneGeneratorOptions& options() const { return options_; }
  const SceneRecipe& recipe() const { return recipe_; }

 private:
  SceneGenerator(const SceneGeneratorOptions& options, const SceneRecipe& recipe);

  SceneGeneratorOptions options_;
  SceneRecipe recipe_;
  // Cumulative 1/L weights for the log-uniform draws of object and crowd sizes and aspect.
  std::vector<uint64_t> long_side_cdf_;
  std::vector<uint64_t> crowd_long_side_cdf_;
  std::vector<uint64_t> aspect_cdf_;
};

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_SCENE_GENERATOR_H_
