#include "eval/scenes/scene_generator.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eval/scenes/background.h"
#include "mochi/data/rng.h"

namespace mochi::eval::scenes {
namespace {

constexpr int kItemSize = ItemPool::kItemSize;
// Mask threshold on the resized intensity: the faint 1-15 halo of Fashion-MNIST items is not
// object.
constexpr int kAlphaThreshold = 16;
// Enclosed background components up to this size are filled; larger ones are real holes.
constexpr int kMaxFilledHole = 3;
// Aspect jitter (height / width) in 1/1000, log-uniform.
constexpr int kMinAspect = 800;
constexpr int kMaxAspect = 1250;

// Cumulative weights floor(2^32 / v) for v in [lo, hi]: a log-uniform law on the integers.
std::vector<uint64_t> LogUniformCdf(int lo, int hi) {
  std::vector<uint64_t> cdf;
  uint64_t total = 0;
  for (int v = lo; v <= hi; ++v) {
    total += (uint64_t{1} << 32) / static_cast<uint64_t>(v);
    cdf.push_back(total);
  }
  return cdf;
}

int DrawFromCdf(const std::vector<uint64_t>& cdf, int lo, data::Rng& rng) {
  const uint64_t r = static_cast<uint64_t>(rng.UniformInt(static_cast<int64_t>(cdf.back())));
  return lo + static_cast<int>(std::upper_bound(cdf.begin(), cdf.end(), r) - cdf.begin());
}

int UniformIn(data::Rng& rng, int lo, int hi) {  // inclusive
  return lo + static_cast<int>(rng.UniformInt(hi - lo + 1));
}

// Bilinear resize of a 28x28 item to width x height, pixel centres aligned, in 1/256 fixed point.
std::vector<int> ResizeItem(const uint8_t* src, int width, int height, bool flip) {
  auto source_coordinate = [](int dst, int size) {
    // ((dst + 0.5) * 28 / size - 0.5) * 256, clamped to the item.
    const int fp = (2 * dst + 1) * kItemSize * 128 / size - 128;
    return std::clamp(fp, 0, (kItemSize - 1) * 256);
  };
  std::vector<int> columns(width);
  for (int x = 0; x < width; ++x) columns[x] = source_coordinate(flip ? width - 1 - x : x, width);
  std::vector<int> out(static_cast<size_t>(width) * height);
  for (int y = 0; y < height; ++y) {
    const int sy = source_coordinate(y, height);
    const int y0 = sy >> 8, fy = sy & 255, y1 = std::min(y0 + 1, kItemSize - 1);
    const uint8_t* row0 = src + y0 * kItemSize;
    const uint8_t* row1 = src + y1 * kItemSize;
    for (int x = 0; x < width; ++x) {
      const int sx = columns[x];
      const int x0 = sx >> 8, fx = sx & 255, x1 = std::min(x0 + 1, kItemSize - 1);
      const int top = row0[x0] * (256 - fx) + row0[x1] * fx;
      const int bottom = row1[x0] * (256 - fx) + row1[x1] * fx;
      out[y * width + x] = (top * (256 - fy) + bottom * fy + 32768) >> 16;
    }
  }
  return out;
}

// Sets enclosed 4-connected background components of at most kMaxFilledHole pixels to 1.
// Background reachable from the border is flooded first; a bounded search then sizes each
// remaining (enclosed) component.
void FillSmallHoles(int width, int height, std::vector<uint8_t>* alpha) {
  std::vector<uint8_t>& a = *alpha;
  std::vector<uint8_t> outside(a.size(), 0);
  std::vector<int> stack;
  auto push = [&](int p) {
    if (a[p] == 0 && outside[p] == 0) {
      outside[p] = 1;
      stack.push_back(p);
    }
  };
  for (int x = 0; x < width; ++x) {
    push(x);
    push((height - 1) * width + x);
  }
  for (int y = 0; y < height; ++y) {
    push(y * width);
    push(y * width + width - 1);
  }
  while (!stack.empty()) {
    const int p = stack.back();
    stack.pop_back();
    const int x = p % width, y = p / width;
    if (x > 0) push(p - 1);
    if (x + 1 < width) push(p + 1);
    if (y > 0) push(p - width);
    if (y + 1 < height) push(p + width);
  }
  // Enclosed pixels are never on the border, so their 4 neighbours exist.
  int component[kMaxFilledHole + 1];
  for (int p = 0; p < width * height; ++p) {
    if (a[p] != 0 || outside[p] != 0) continue;
    int size = 1;
    component[0] = p;
    for (int i = 0; i < size && size <= kMaxFilledHole; ++i) {
      for (const int q :
           {component[i] - 1, component[i] + 1, component[i] - width, component[i] + width}) {
        if (a[q] != 0 || std::find(component, component + size, q) != component + size) continue;
        component[size++] = q;
        if (size > kMaxFilledHole) break;
      }
    }
    if (size <= kMaxFilledHole) {
      for (int i = 0; i < size; ++i) a[component[i]] = 1;
    } else {
      // Too large: mark it so its other pixels skip the search.
      stack.push_back(p);
      outside[p] = 1;
      while (!stack.empty()) {
        const int r = stack.back();
        stack.pop_back();
        for (const int q : {r - 1, r + 1, r - width, r + width}) {
          if (a[q] == 0 && outside[q] == 0) {
            outside[q] = 1;
            stack.push_back(q);
          }
        }
      }
    }
  }
}

// A saturated random tint (one channel 255) or, one time in five, white.
std::array<int, 3> RandomTint(data::Rng& rng) {
  if (rng.UniformInt(5) == 0) return {255, 255, 255};
  std::array<int, 3> tint;
  const int top = static_cast<int>(rng.UniformInt(3));
  const int mid = (top + 1 + static_cast<int>(rng.UniformInt(2))) % 3;
  const int low = 3 - top - mid;
  tint[top] = 255;
  tint[mid] = static_cast<int>(rng.UniformInt(256));
  tint[low] = std::min(tint[mid], static_cast<int>(rng.UniformInt(128)));
  return tint;
}

// Renders pool item `item` at width x height: mask, tint and brightness (154..256 = 0.6..1).
PlacedItem RenderItem(const ItemPool& pool, int64_t item, int width, int height, data::Rng& rng) {
  const bool flip = rng.UniformInt(2) == 1;
  const std::array<int, 3> tint = RandomTint(rng);
  const int brightness = UniformIn(rng, 154, 256);
  PlacedItem placed;
  placed.label = pool.label(item);
  placed.item_index = item;
  placed.width = width;
  placed.height = height;
  const std::vector<int> gray = ResizeItem(pool.pixels(item), width, height, flip);
  placed.alpha.resize(gray.size());
  for (size_t p = 0; p < gray.size(); ++p) placed.alpha[p] = gray[p] >= kAlphaThreshold ? 1 : 0;
  FillSmallHoles(width, height, &placed.alpha);
  placed.rgb.resize(gray.size() * 3);
  for (size_t p = 0; p < gray.size(); ++p) {
    for (int c = 0; c < 3; ++c) {
      placed.rgb[p * 3 + c] =
          static_cast<uint8_t>((gray[p] * tint[c] * brightness + 255 * 128) / (255 * 256));
    }
  }
  return placed;
}

// An item of a uniformly random class present in the pool (then a uniform item of it).
int64_t DrawItem(const ItemPool& pool, data::Rng& rng, int* label) {
  std::array<int, kNumSceneCategories> present;
  int num_present = 0;
  for (int c = 0; c < kNumSceneCategories; ++c) {
    if (!pool.items_of_class(c).empty()) present[num_present++] = c;
  }
  *label = present[rng.UniformInt(num_present)];
  const std::vector<int64_t>& items = pool.items_of_class(*label);
  return items[rng.UniformInt(static_cast<int64_t>(items.size()))];
}

// Width and height for long side `long_side` and an aspect (height/width) drawn from `cdf`.
void DrawShape(int long_side, const std::vector<uint64_t>& aspect_cdf, data::Rng& rng, int* width,
               int* height) {
  const int aspect = DrawFromCdf(aspect_cdf, kMinAspect, rng);
  if (aspect >= 1000) {
    *height = long_side;
    *width = std::max(4, (long_side * 1000 + aspect / 2) / aspect);
  } else {
    *width = long_side;
    *height = std::max(4, (long_side * aspect + 500) / 1000);
  }
}

}  // namespace

SceneRecipe RecipeFor(SceneTask task, int canvas) {
  SceneRecipe recipe;
  recipe.max_long_side = canvas * 85 / 100;
  switch (task) {
    case SceneTask::kVoc:
      recipe.min_objects = 1;
      recipe.max_objects = 3;
      recipe.min_long_side = canvas * 30 / 100;
      break;
    case SceneTask::kCoco:
      recipe.min_objects = 2;
      recipe.max_objects = 8;
      recipe.min_long_side = std::max(8, canvas / 16);
      recipe.crowd_per_mille = 100;
      recipe.min_crowd_items = 5;
      recipe.max_crowd_items = 9;
      recipe.min_crowd_long_side = std::max(6, canvas / 24);
      recipe.max_crowd_long_side = std::max(8, canvas / 14);
      break;
  }
  return recipe;
}

Scene ComposeScene(int canvas, std::vector<uint8_t> background,
                   const std::vector<PlacedItem>& crowd, int crowd_label,
                   const std::vector<PlacedItem>& objects) {
  Scene scene;
  scene.width = canvas;
  scene.height = canvas;
  scene.rgb = std::move(background);
  std::vector<uint8_t> occupied(static_cast<size_t>(canvas) * canvas, 0);
  std::vector<SceneInstance> kept;  // front to back

  // Front to back: an object's visibility depends only on the objects kept in front of it.
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    const PlacedItem& item = *it;
    SceneInstance instance;
    instance.label = item.label;
    instance.item_index = item.item_index;
    instance.visible = Mask(canvas, canvas);
    int xmin = canvas, ymin = canvas, xmax = -1, ymax = -1;
    for (int y = 0; y < item.height; ++y) {
      for (int x = 0; x < item.width; ++x) {
        if (item.alpha[y * item.width + x] == 0) continue;
        ++instance.full_area;
        const int cx = item.x + x, cy = item.y + y;
        if (cx < 0 || cy < 0 || cx >= canvas || cy >= canvas) {
          instance.truncated = true;
          continue;
        }
        if (occupied[cy * canvas + cx] != 0) continue;
        instance.visible.set(cx, cy);
        ++instance.area;
        xmin = std::min(xmin, cx);
        xmax = std::max(xmax, cx);
        ymin = std::min(ymin, cy);
        ymax = std::max(ymax, cy);
      }
    }
    if (instance.area == 0 || instance.area * 4 < instance.full_area) {
      ++scene.num_dropped;
      continue;
    }
    instance.difficult = instance.area * 2 < instance.full_area;
    instance.box = Box{xmin, ymin, xmax - xmin + 1, ymax - ymin + 1};  // == TightBox(visible)
    for (int y = 0; y < item.height; ++y) {
      for (int x = 0; x < item.width; ++x) {
        const int cx = item.x + x, cy = item.y + y;
        if (cx < 0 || cy < 0 || cx >= canvas || cy >= canvas) continue;
        const size_t p = static_cast<size_t>(cy) * canvas + cx;
        if (instance.visible.bits[p] == 0) continue;
        occupied[p] = 1;
        for (int c = 0; c < 3; ++c) scene.rgb[p * 3 + c] = item.rgb[(y * item.width + x) * 3 + c];
      }
    }
    kept.push_back(std::move(instance));
  }
  std::reverse(kept.begin(), kept.end());
  scene.instances = std::move(kept);

  if (crowd.empty()) return scene;
  // The crowd's items are flattened into one layer (later items in front) behind every object.
  std::vector<uint8_t> crowd_alpha(occupied.size(), 0), crowd_rgb(occupied.size() * 3, 0);
  for (const PlacedItem& item : crowd) {
    for (int y = 0; y < item.height; ++y) {
      for (int x = 0; x < item.width; ++x) {
        const int cx = item.x + x, cy = item.y + y;
        if (item.alpha[y * item.width + x] == 0 || cx < 0 || cy < 0 || cx >= canvas ||
            cy >= canvas) {
          continue;
        }
        const size_t p = static_cast<size_t>(cy) * canvas + cx;
        crowd_alpha[p] = 1;
        for (int c = 0; c < 3; ++c) crowd_rgb[p * 3 + c] = item.rgb[(y * item.width + x) * 3 + c];
      }
    }
  }
  SceneInstance region;
  region.label = crowd_label;
  region.is_crowd = true;
  region.visible = Mask(canvas, canvas);
  for (size_t p = 0; p < occupied.size(); ++p) {
    if (crowd_alpha[p] == 0) continue;
    ++region.full_area;
    if (occupied[p] != 0) continue;
    region.visible.bits[p] = 1;
    ++region.area;
  }
  if (region.area == 0 || region.area * 4 < region.full_area) {
    ++scene.num_dropped;
    return scene;
  }
  region.box = TightBox(region.visible);
  for (size_t p = 0; p < occupied.size(); ++p) {
    if (region.visible.bits[p] == 0) continue;
    for (int c = 0; c < 3; ++c) scene.rgb[p * 3 + c] = crowd_rgb[p * 3 + c];
  }
  scene.instances.push_back(std::move(region));
  return scene;
}

absl::StatusOr<SceneGenerator> SceneGenerator::Create(const SceneGeneratorOptions& options) {
  if (options.canvas < kMinCanvas || options.canvas > kMaxCanvas) {
    return absl::InvalidArgumentError(
        absl::StrCat("scene canvas ", options.canvas, " px is outside [", kMinCanvas, ", ",
                     kMaxCanvas, "]: smaller canvases leave no room for the object sizes"));
  }
  return SceneGenerator(options, RecipeFor(options.task, options.canvas));
}

SceneGenerator::SceneGenerator(const SceneGeneratorOptions& options, const SceneRecipe& recipe)
    : options_(options),
      recipe_(recipe),
      long_side_cdf_(LogUniformCdf(recipe.min_long_side, recipe.max_long_side)),
      aspect_cdf_(LogUniformCdf(kMinAspect, kMaxAspect)) {
  if (recipe.crowd_per_mille > 0) {
    crowd_long_side_cdf_ = LogUniformCdf(recipe.min_crowd_long_side, recipe.max_crowd_long_side);
  }
}

absl::StatusOr<Scene> SceneGenerator::Generate(const ItemPool& pool, SceneSplit split,
                                               int64_t index) const {
  if (pool.size() == 0) {
    return absl::FailedPreconditionError("scene generator: the item pool is empty");
  }
  if (index < 0) {
    return absl::InvalidArgumentError(absl::StrCat("scene index ", index, " is negative"));
  }
  const int canvas = options_.canvas;
  const uint64_t task_seed =
      data::MixSeed(options_.seed, options_.task == SceneTask::kVoc ? 0x766f63 : 0x636f636f);
  const uint64_t scene_seed =
      data::MixSeed(data::MixSeed(task_seed, static_cast<uint64_t>(SplitIndex(split))), index);
  // Independent streams, so e.g. the object count does not shift the background.
  data::Rng crowd_rng(data::MixSeed(scene_seed, 1));
  data::Rng object_rng(data::MixSeed(scene_seed, 2));

  std::vector<PlacedItem> crowd;
  int crowd_label = 0;
  if (recipe_.crowd_per_mille > 0 && crowd_rng.UniformInt(1000) < recipe_.crowd_per_mille) {
    int64_t first = DrawItem(pool, crowd_rng, &crowd_label);
    const std::vector<int64_t>& same_class = pool.items_of_class(crowd_label);
    const int count = UniformIn(crowd_rng, recipe_.min_crowd_items, recipe_.max_crowd_items);
    const int spread = 2 * recipe_.max_crowd_long_side;
    const int cx = canvas / 8 + static_cast<int>(crowd_rng.UniformInt(canvas * 3 / 4));
    const int cy = canvas / 8 + static_cast<int>(crowd_rng.UniformInt(canvas * 3 / 4));
    for (int i = 0; i < count; ++i) {
      const int64_t item =
          i == 0 ? first
                 : same_class[crowd_rng.UniformInt(static_cast<int64_t>(same_class.size()))];
      const int long_side =
          DrawFromCdf(crowd_long_side_cdf_, recipe_.min_crowd_long_side, crowd_rng);
      int width, height;
      DrawShape(long_side, aspect_cdf_, crowd_rng, &width, &height);
      PlacedItem placed = RenderItem(pool, item, width, height, crowd_rng);
      // Inside the canvas: a crowd region is never truncated.
      placed.x =
          std::clamp(cx + UniformIn(crowd_rng, -spread, spread) - width / 2, 0, canvas - width);
      placed.y =
          std::clamp(cy + UniformIn(crowd_rng, -spread, spread) - height / 2, 0, canvas - height);
      crowd.push_back(std::move(placed));
    }
  }

  const int num_objects = UniformIn(object_rng, recipe_.min_objects, recipe_.max_objects);
  std::vector<PlacedItem> objects;
  for (int i = 0; i < num_objects; ++i) {
    int label;
    const int64_t item = DrawItem(pool, object_rng, &label);
    const int long_side = DrawFromCdf(long_side_cdf_, recipe_.min_long_side, object_rng);
    int width, height;
    DrawShape(long_side, aspect_cdf_, object_rng, &width, &height);
    PlacedItem placed = RenderItem(pool, item, width, height, object_rng);
    // At most a quarter of the item's width and height past the edge.
    placed.x = -width / 4 + static_cast<int>(object_rng.UniformInt(canvas - width / 2 + 1));
    placed.y = -height / 4 + static_cast<int>(object_rng.UniformInt(canvas - height / 2 + 1));
    objects.push_back(std::move(placed));
  }
  return ComposeScene(canvas, RenderBackground(canvas, data::MixSeed(scene_seed, 0)), crowd,
                      crowd_label, objects);
}

int SplitIndex(SceneSplit split) {
  switch (split) {
    case SceneSplit::kTrain:
      return 0;
    case SceneSplit::kVal:
      return 1;
    case SceneSplit::kTest:
      return 2;
  }
  return 0;  // Unreachable: -Werror=switch keeps the switch exhaustive.
}

}  // namespace mochi::eval::scenes
