// The ten object categories of the Fashion-MNIST scenes and their COCO ids.
//
// COCO category ids are deliberately non-contiguous (1, 2, 3, 5, 7, 8, 11, 13, 14, 17), as in
// real COCO, so an evaluator or loader that assumes id == index + 1 fails loudly. Names are
// single tokens so they also serve as VOC <name> values and per-class file names.
#ifndef EVAL_SCENES_CATEGORIES_H_
#define EVAL_SCENES_CATEGORIES_H_

#include <array>

namespace mochi::eval::scenes {

// SceneCategory describes Fashion-MNIST label `label` in the scene datasets.
struct SceneCategory {
  int label;                  // Fashion-MNIST class, 0..9
  int coco_id;                // COCO `category_id`
  const char* name;           // COCO `name` and VOC <name>
  const char* supercategory;  // COCO `supercategory`
};

inline constexpr int kNumSceneCategories = 10;

// SceneCategories returns the categories indexed by Fashion-MNIST label.
//
// Example:
//   SceneCategories()[8].coco_id == 14  // "bag"
inline const std::array<SceneCategory, kNumSceneCategories>& SceneCategories() {
  static constexpr std::array<SceneCategory, kNumSceneCategories> kCategories = {{
      {0, 1, "tshirt_top", "top"},
      {1, 2, "trouser", "bottom"},
      {2, 3, "pullover", "top"},
      {3, 5, "dress", "top"},  // one piece covering the torso
      {4, 7, "coat", "top"},
      {5, 8, "sandal", "footwear"},
      {6, 11, "shirt", "top"},
      {7, 13, "sneaker", "footwear"},
      {8, 14, "bag", "bag"},
      {9, 17, "ankle_boot", "footwear"},
  }};
  return kCategories;
}

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_CATEGORIES_H_
