#include "eval/scenes/make_scenes.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "eval/scenes/fashion_mnist_items.h"
#include "eval/scenes/image_file.h"
#include "eval/scenes/scene_generator.h"
#include "eval/scenes/voc_writer.h"
#include "mochi/data/fashion_mnist.h"
#include "mochi/port/status_macros.h"

namespace mochi::eval::scenes {
namespace {

constexpr int64_t kSmallArea = 32 * 32;
constexpr int64_t kLargeArea = 96 * 96;

struct Pools {
  ItemPool train;
  ItemPool val;
  ItemPool test;
};

const char* SplitName(SceneSplit split) {
  switch (split) {
    case SceneSplit::kTrain:
      return "train";
    case SceneSplit::kVal:
      return "val";
    case SceneSplit::kTest:
      return "test";
  }
  return "";  // Unreachable: -Werror=switch keeps the switch exhaustive.
}

absl::Status CheckCount(const char* flag, int64_t value) {
  if (value < 0 || value > kMaxScenesPerSplit) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", value, ": must be in [0, ", kMaxScenesPerSplit, "]"));
  }
  return absl::OkStatus();
}

void Count(const Scene& scene, SplitSummary* summary) {
  ++summary->images;
  summary->dropped += scene.num_dropped;
  for (const SceneInstance& instance : scene.instances) {
    if (instance.is_crowd) {
      ++summary->crowd_regions;
      continue;
    }
    ++summary->instances;
    if (instance.area < kSmallArea) {
      ++summary->small;
    } else if (instance.area < kLargeArea) {
      ++summary->medium;
    } else {
      ++summary->large;
    }
    summary->difficult += instance.difficult;
    summary->truncated += instance.truncated;
  }
}

// Scenes rendered per round of the worker threads (bounds memory: ~0.5 MB per scene).
constexpr int64_t kChunk = 64;

struct RenderedScene {
  Scene scene;
  std::string jpeg;
};

// Renders scenes [begin, end) of `split` on `num_threads` threads, then hands them to `sink` in
// index order, so the files written do not depend on the thread count.
absl::Status RenderSplit(const SceneGenerator& generator, const ItemPool& pool, SceneSplit split,
                         int64_t count, const MakeScenesOptions& options,
                         const std::function<absl::Status(int64_t, const RenderedScene&)>& sink) {
  for (int64_t begin = 0; begin < count; begin += kChunk) {
    const int64_t end = std::min(count, begin + kChunk);
    std::vector<absl::StatusOr<RenderedScene>> rendered(end - begin,
                                                        absl::UnknownError("not rendered"));
    auto work = [&](int64_t first) {
      for (int64_t index = first; index < end; index += options.num_threads) {
        absl::StatusOr<RenderedScene>& out = rendered[index - begin];
        absl::StatusOr<Scene> scene = generator.Generate(pool, split, index);
        if (!scene.ok()) {
          out = scene.status();
          continue;
        }
        absl::StatusOr<std::string> jpeg =
            EncodeJpeg(scene->rgb, scene->width, scene->height, options.jpeg_quality);
        if (!jpeg.ok()) {
          out = jpeg.status();
          continue;
        }
        out = RenderedScene{*std::move(scene), *std::move(jpeg)};
      }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < options.num_threads; ++t) threads.emplace_back(work, begin + t);
    work(begin);
    for (std::thread& thread : threads) thread.join();
    for (int64_t index = begin; index < end; ++index) {
      const absl::StatusOr<RenderedScene>& scene = rendered[index - begin];
      if (!scene.ok()) return scene.status();
      MOCHI_RETURN_IF_ERROR(sink(index, *scene));
    }
  }
  return absl::OkStatus();
}

const ItemPool& PoolFor(const Pools& pools, SceneSplit split) {
  switch (split) {
    case SceneSplit::kTrain:
      return pools.train;
    case SceneSplit::kVal:
      return pools.val;
    case SceneSplit::kTest:
      return pools.test;
  }
  return pools.train;  // Unreachable: -Werror=switch keeps the switch exhaustive.
}

absl::StatusOr<TaskSummary> WriteVoc(const MakeScenesOptions& options, const Pools& pools) {
  SceneGeneratorOptions generator_options;
  generator_options.task = SceneTask::kVoc;
  generator_options.canvas = options.canvas;
  generator_options.seed = options.seed;
  MOCHI_ASSIGN_OR_RETURN(SceneGenerator generator, SceneGenerator::Create(generator_options));
  VocWriterOptions writer_options;
  writer_options.devkit_root = absl::StrCat(options.output_dir, "/VOCdevkit");
  writer_options.jpeg_quality = options.jpeg_quality;
  MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<VocWriter> writer, VocWriter::Create(writer_options));
  TaskSummary summary{"voc", writer->year_root(), {}};
  int64_t next_id = 1;  // VOC numbers images across splits, as VOC2007 does
  const std::pair<SceneSplit, int64_t> splits[] = {{SceneSplit::kTrain, options.num_train},
                                                   {SceneSplit::kVal, options.num_val},
                                                   {SceneSplit::kTest, options.num_test}};
  for (const auto& [split, count] : splits) {
    SplitSummary split_summary;
    split_summary.split = SplitName(split);
    MOCHI_RETURN_IF_ERROR(RenderSplit(generator, PoolFor(pools, split), split, count, options,
                                      [&](int64_t, const RenderedScene& rendered) {
                                        Count(rendered.scene, &split_summary);
                                        return writer->AddEncoded(
                                            rendered.scene, split,
                                            absl::StrFormat("%06d", next_id++), rendered.jpeg);
                                      }));
    summary.splits.push_back(split_summary);
  }
  MOCHI_RETURN_IF_ERROR(writer->Finish());
  return summary;
}

absl::StatusOr<TaskSummary> WriteCoco(const MakeScenesOptions& options, const Pools& pools) {
  SceneGeneratorOptions generator_options;
  generator_options.task = SceneTask::kCoco;
  generator_options.canvas = options.canvas;
  generator_options.seed = options.seed;
  MOCHI_ASSIGN_OR_RETURN(SceneGenerator generator, SceneGenerator::Create(generator_options));
  TaskSummary summary{"coco", absl::StrCat(options.output_dir, "/coco"), {}};
  const std::pair<SceneSplit, int64_t> splits[] = {{SceneSplit::kTrain, options.num_train},
                                                   {SceneSplit::kVal, options.num_val}};
  for (const auto& [split, count] : splits) {
    CocoWriterOptions writer_options;
    writer_options.root = summary.path;
    writer_options.split = SplitName(split);
    writer_options.mask_format = options.coco_mask_format;
    writer_options.jpeg_quality = options.jpeg_quality;
    MOCHI_ASSIGN_OR_RETURN(std::unique_ptr<CocoWriter> writer, CocoWriter::Create(writer_options));
    SplitSummary split_summary;
    split_summary.split = SplitName(split);
    MOCHI_RETURN_IF_ERROR(RenderSplit(
        generator, PoolFor(pools, split), split, count, options,
        [&](int64_t index, const RenderedScene& rendered) {
          Count(rendered.scene, &split_summary);
          return writer->AddEncoded(rendered.scene, CocoImageId(split, index), rendered.jpeg);
        }));
    MOCHI_RETURN_IF_ERROR(writer->Finish());
    summary.splits.push_back(split_summary);
  }
  return summary;
}

}  // namespace

absl::Status ValidateMakeScenesOptions(const MakeScenesOptions& options) {
  if (options.output_dir.empty()) {
    return absl::InvalidArgumentError("--output_dir is required");
  }
  if (!options.voc && !options.coco) {
    return absl::InvalidArgumentError("no task selected: use --task=voc, coco or both");
  }
  MOCHI_RETURN_IF_ERROR(CheckCount("num_train", options.num_train));
  MOCHI_RETURN_IF_ERROR(CheckCount("num_val", options.num_val));
  MOCHI_RETURN_IF_ERROR(CheckCount("num_test", options.num_test));
  if (options.canvas < kMinCanvas) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--canvas=", options.canvas, " is too small: scenes need at least ", kMinCanvas,
        " px (below that the object size ranges, e.g. 8 px to 0.85 x canvas, collapse)"));
  }
  if (options.canvas > kMaxCanvas) {
    return absl::InvalidArgumentError(
        absl::StrCat("--canvas=", options.canvas, " is too large (at most ", kMaxCanvas, " px)"));
  }
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("--jpeg_quality=", options.jpeg_quality, ": must be in 1..100"));
  }
  if (options.num_threads < 1 || options.num_threads > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads=", options.num_threads, ": must be in 1..64"));
  }
  if (options.item_limit < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("item_limit ", options.item_limit, " is negative"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TaskSummary>> MakeScenes(const MakeScenesOptions& options) {
  MOCHI_RETURN_IF_ERROR(ValidateMakeScenesOptions(options));
  Pools pools;
  if (options.num_train > 0) {
    MOCHI_ASSIGN_OR_RETURN(
        pools.train,
        LoadFashionMnistItems(options.fashion_mnist_root, data::FashionMnistOptions::Split::kTrain,
                              options.item_limit));
  }
  const bool needs_test_items = options.num_val > 0 || (options.voc && options.num_test > 0);
  if (needs_test_items) {
    MOCHI_ASSIGN_OR_RETURN(
        ItemPool test_items,
        LoadFashionMnistItems(options.fashion_mnist_root, data::FashionMnistOptions::Split::kTest,
                              options.item_limit));
    const int64_t half = test_items.size() / 2;
    pools.val = test_items.Slice(0, half);
    pools.test = test_items.Slice(half, test_items.size());
  }
  std::vector<TaskSummary> summaries;
  if (options.voc) {
    const absl::Time start = absl::Now();
    MOCHI_ASSIGN_OR_RETURN(TaskSummary summary, WriteVoc(options, pools));
    summary.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    summaries.push_back(std::move(summary));
  }
  if (options.coco) {
    const absl::Time start = absl::Now();
    MOCHI_ASSIGN_OR_RETURN(TaskSummary summary, WriteCoco(options, pools));
    summary.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    summaries.push_back(std::move(summary));
  }
  return summaries;
}

std::string FormatTaskSummary(const TaskSummary& summary) {
  std::vector<std::string> parts;
  for (const SplitSummary& split : summary.splits) {
    parts.push_back(absl::StrFormat(
        "%s %d images, %d instances, %d crowd regions, small/medium/large %d/%d/%d (dropped %d, "
        "difficult %d, truncated %d)",
        split.split, split.images, split.instances, split.crowd_regions, split.small, split.medium,
        split.large, split.dropped, split.difficult, split.truncated));
  }
  return absl::StrCat(summary.task, " -> ", summary.path, ": ", absl::StrJoin(parts, "; "),
                      absl::StrFormat(" [%.1f s]", summary.seconds));
}

}  // namespace mochi::eval::scenes
