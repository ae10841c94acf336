// How fast can one core feed the paper profile? Per image: read + decode a photo-sized JPEG
// (ImageFolder) and make the MoCo-v2 pair of 224 px views (the paper config's augmentation:
// RandomResizedCrop, colour jitter, grayscale, blur, flip, normalise), with libjpeg-turbo and
// with stb_image (the decoder before it), on the same images, rounds alternated. One intra-op
// thread, so img/s is per core (a loader worker decodes one image at a time).
//
// Run: bazel run //bench:jpeg_loader_benchmark -- [--root=DIR] [--images=200] [--rounds=5]
// Without --root it writes the synthetic tree (bench/synthetic_jpeg_tree.h) to a temporary
// directory first.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "ATen/Parallel.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/sample_statistics.h"
#include "bench/synthetic_jpeg_tree.h"
#include "mochi/config/validate.h"
#include "mochi/data/image_folder.h"
#include "mochi/engine/builders.h"
#include "mochi/port/paths.h"

ABSL_FLAG(std::string, config, "configs/pretrain/mocov2_r50_in1k_200ep.pbtxt",
          "PretrainConfig whose augmentation is timed (the paper profile's).");
ABSL_FLAG(std::string, root, "", "Image folder; empty = write the synthetic tree to a temp dir.");
ABSL_FLAG(int, images, 200, "Images per variant per round.");
ABSL_FLAG(int, rounds, 5, "Measured rounds (after one warm-up round).");

namespace {

using Clock = std::chrono::steady_clock;

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  at::set_num_threads(1);
  auto config = mochi::LoadConfig<mochi::proto::PretrainConfig>(
      mochi::ResolvePath(absl::GetFlag(FLAGS_config)));
  if (!config.ok()) return Fail(config.status());
  std::string root = absl::GetFlag(FLAGS_root);
  if (root.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    root = std::string(tmp != nullptr ? tmp : "/tmp") + "/mochi_synthetic_jpeg_tree";
    mochi::bench::SyntheticJpegTreeOptions tree;
    std::printf("writing the synthetic tree (%d x %d JPEGs, %dx%d, quality %d) to %s\n",
                tree.classes, tree.images_per_class, tree.width, tree.height, tree.quality,
                root.c_str());
    if (absl::Status status = mochi::bench::WriteSyntheticJpegTree(root, tree); !status.ok()) {
      return Fail(status);
    }
  } else {
    root = mochi::ResolvePath(root);
  }
  auto transform = mochi::BuildViewTransform(config->augmentation(), 3, /*num_views=*/2);
  if (!transform.ok()) return Fail(transform.status());

  struct Variant {
    std::string name;
    std::unique_ptr<mochi::data::ImageFolder> folder;
    std::vector<double> decode_rate, pair_rate;  // img/s per round
  };
  std::vector<Variant> variants;
  for (const auto& [name, decoder] :
       {std::pair{"libjpeg-turbo", mochi::data::JpegDecoder::kLibjpegTurbo},
        std::pair{"stb_image", mochi::data::JpegDecoder::kStbImage}}) {
    mochi::data::ImageFolderOptions options;
    options.root = root;
    options.jpeg_decoder = decoder;
    auto folder = mochi::data::ImageFolder::Load(options);
    if (!folder.ok()) return Fail(folder.status());
    variants.push_back({name, *std::move(folder), {}, {}});
  }
  const int64_t images = std::min<int64_t>(absl::GetFlag(FLAGS_images), variants[0].folder->size());
  const int rounds = absl::GetFlag(FLAGS_rounds);
  std::printf(
      "%s (%lld images), config %s, augmentation crop %d, 1 intra-op thread, %lld images "
      "per variant per round, 1 warm-up + %d rounds, variants alternated\n",
      variants[0].folder->Describe().c_str(), static_cast<long long>(variants[0].folder->size()),
      absl::GetFlag(FLAGS_config).c_str(), config->augmentation().crop_size(),
      static_cast<long long>(images), rounds);
  // Spread the timed images over the classes (index stride), the same ones for every variant.
  const int64_t stride = std::max<int64_t>(1, variants[0].folder->size() / images);
  for (int round = 0; round <= rounds; ++round) {
    for (size_t j = 0; j < variants.size(); ++j) {
      Variant& v = variants[(round + j) % variants.size()];
      double decode_s = 0, pair_s = 0;
      for (int64_t i = 0; i < images; ++i) {
        const auto t0 = Clock::now();
        absl::StatusOr<mochi::data::Example> example = v.folder->Get(i * stride);
        if (!example.ok()) return Fail(example.status());
        const auto t1 = Clock::now();
        absl::StatusOr<std::vector<at::Tensor>> views = (*transform)(*example, i);
        if (!views.ok()) return Fail(views.status());
        const auto t2 = Clock::now();
        decode_s += std::chrono::duration<double>(t1 - t0).count();
        pair_s += std::chrono::duration<double>(t2 - t0).count();
      }
      if (round > 0) {
        v.decode_rate.push_back(images / decode_s);
        v.pair_rate.push_back(images / pair_s);
      }
    }
  }
  std::printf("  %-16s %22s %28s\n", "decoder", "read+decode img/s", "read+decode+2 views img/s");
  for (const Variant& v : variants) {
    std::printf("  %-16s %22.0f %28.0f\n", v.name.c_str(), mochi::bench::Median(v.decode_rate),
                mochi::bench::Median(v.pair_rate));
  }
  std::vector<double> decode_ratio, pair_ratio;
  for (int r = 0; r < rounds; ++r) {
    decode_ratio.push_back(variants[0].decode_rate[r] / variants[1].decode_rate[r]);
    pair_ratio.push_back(variants[0].pair_rate[r] / variants[1].pair_rate[r]);
  }
  std::printf(
      "  libjpeg-turbo / stb_image, median per-round ratio: decode %.2fx, decode + 2 views "
      "%.2fx\n",
      mochi::bench::Median(decode_ratio), mochi::bench::Median(pair_ratio));
  return 0;
}
