// //eval:detect's library: VOC reading, input resizing / flipping, the LR schedule, results
// files, backbone init from a pretraining checkpoint (and clear errors for one that does not
// fit), and a tiny end-to-end run on generated scenes.
#include "eval/detection/detection_train.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "eval/coco/mask.h"
#include "eval/detection/detection_builders.h"
#include "eval/detection/detection_input.h"
#include "eval/detection/detection_results.h"
#include "eval/detection/voc_dataset.h"
#include "eval/scenes/image_file.h"
#include "eval/scenes/make_scenes.h"
#include "eval/voc/voc_eval.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/config/validate.h"
#include "mochi/engine/builders.h"
#include "mochi/engine/checkpoint.h"
#include "mochi/port/json_proto.h"
#include "mochi/port/text_proto.h"
#include "mochi/proto/results.pb.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"
#include "torch/optim/sgd.h"

namespace mochi::eval::detection {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pointwise;

std::string TempDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<double> Values(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kDouble).contiguous().reshape(-1);
  return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

// The default-profile config, checked into configs/.
proto::DetectionConfig FmsConfig(const std::string& override_text = "") {
  absl::StatusOr<proto::DetectionConfig> config =
      LoadConfig<proto::DetectionConfig>("configs/detection/fms_voc_r18_c4.pbtxt", override_text);
  EXPECT_THAT(config, IsOk());
  return config.ok() ? *config : proto::DetectionConfig();
}

// A VOC folder with one 40x30 image holding a bag (1-based box 5..24 x 3..12) and a difficult
// sneaker.
std::string WriteTinyVoc() {
  const std::string root = TempDir("tiny_voc");
  const std::string year = root + "/FMS2007";
  std::filesystem::create_directories(year + "/JPEGImages");
  std::filesystem::create_directories(year + "/Annotations");
  std::filesystem::create_directories(year + "/ImageSets/Main");
  std::vector<uint8_t> rgb(40 * 30 * 3, 0);
  for (size_t i = 0; i < rgb.size(); i += 3) rgb[i] = 255;  // pure red
  absl::StatusOr<std::string> jpeg = eval::scenes::EncodeJpeg(rgb, 40, 30, 95);
  EXPECT_THAT(jpeg, IsOk());
  EXPECT_THAT(eval::scenes::WriteFileBytes(year + "/JPEGImages/000007.jpg", *jpeg), IsOk());
  EXPECT_THAT(
      eval::scenes::WriteFileBytes(
          year + "/Annotations/000007.xml",
          "<annotation><object><name>bag</name><difficult>0</difficult><bndbox><xmin>5</xmin>"
          "<ymin>3</ymin><xmax>24</xmax><ymax>12</ymax></bndbox></object><object><name>sneaker"
          "</name><difficult>1</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>40</xmax>"
          "<ymax>30</ymax></bndbox></object></annotation>"),
      IsOk());
  EXPECT_THAT(eval::scenes::WriteFileBytes(year + "/ImageSets/Main/test.txt", "000007\n"), IsOk());
  return root;
}

const std::vector<std::string> kSceneClasses = {"tshirt_top", "trouser",   "pullover", "dress",
                                                "coat",       "sandal",    "shirt",    "sneaker",
                                                "bag",        "ankle_boot"};

TEST(VocDatasetTest, ParsesImageSetNames) {
  absl::StatusOr<VocImageSet> voc = ParseVocImageSet("/d", "2007_trainval");
  MOCHI_ASSERT_OK(voc);
  EXPECT_EQ(voc->year_root, "/d/VOC2007");
  EXPECT_EQ(voc->split, "trainval");
  absl::StatusOr<VocImageSet> scenes = ParseVocImageSet("/d", "FMS2007_test");
  MOCHI_ASSERT_OK(scenes);
  EXPECT_EQ(scenes->year_root, "/d/FMS2007");
  EXPECT_EQ(scenes->split, "test");
  EXPECT_THAT(ParseVocImageSet("/d", "trainval"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(VocDatasetTest, ReadsBoxesAsDetectron2AndDecodesGray) {
  const std::string root = WriteTinyVoc();
  absl::StatusOr<std::vector<DetectionRecord>> records =
      LoadVocRecords(root, {"FMS2007_test"}, kSceneClasses);
  MOCHI_ASSERT_OK(records);
  ASSERT_EQ(records->size(), 1u);
  const DetectionRecord& r = (*records)[0];
  EXPECT_EQ(r.image_id, "000007");
  ASSERT_EQ(r.boxes.size(), 2u);
  EXPECT_THAT(r.boxes[0], ElementsAre(4, 2, 24, 12));  // xmin - 1, ymin - 1, xmax, ymax
  EXPECT_THAT(r.classes, ElementsAre(8, 7));
  EXPECT_THAT(r.difficult, ElementsAre(false, true));

  absl::StatusOr<DecodedImage> gray = DecodeImageFile(r.image_path, 1);
  MOCHI_ASSERT_OK(gray);
  EXPECT_EQ(gray->width, 40);
  EXPECT_EQ(gray->height, 30);
  EXPECT_EQ(gray->pixels.size(), 40u * 30u);
  EXPECT_NEAR(gray->pixels[615], 255 * 77 / 256, 6);  // stb's luma of pure red
  absl::StatusOr<DecodedImage> rgb = DecodeImageFile(r.image_path, 3);
  MOCHI_ASSERT_OK(rgb);
  EXPECT_EQ(rgb->pixels.size(), 40u * 30u * 3u);

  EXPECT_THAT(LoadVocRecords(root, {"FMS2007_test"}, {"bag"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sneaker")));
  EXPECT_THAT(LoadVocRecords(root, {"FMS2007_train"}, kSceneClasses),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(DetectionInputTest, ResizesTheShorterSideAndFlipsBoxes) {
  const std::string root = WriteTinyVoc();
  absl::StatusOr<std::vector<DetectionRecord>> records =
      LoadVocRecords(root, {"FMS2007_test"}, kSceneClasses);
  MOCHI_ASSERT_OK(records);
  absl::StatusOr<DetectionInput> input =
      LoadDetectionInput((*records)[0], 1, /*min_size=*/60, /*max_size=*/1000, /*flip=*/false);
  MOCHI_ASSERT_OK(input);
  EXPECT_THAT(input->image.sizes(), ElementsAre(1, 60, 80));
  EXPECT_DOUBLE_EQ(input->scale_x, 2);
  EXPECT_THAT(Values(input->targets.boxes[0]),
              Pointwise(DoubleNear(1e-5), std::vector<double>{8, 4, 48, 24}));
  // max_size caps the longer side: 40x30 -> 50x37.5 rounds to 50x38.
  absl::StatusOr<DetectionInput> capped = LoadDetectionInput((*records)[0], 3, 60, 50, true);
  MOCHI_ASSERT_OK(capped);
  EXPECT_THAT(capped->image.sizes(), ElementsAre(3, 38, 50));
  // Flipped: x1' = W - x2, x2' = W - x1.
  EXPECT_THAT(Values(capped->targets.boxes[0]),
              Pointwise(DoubleNear(1e-4),
                        std::vector<double>{50 - 30, 2 * 38 / 30.0, 50 - 5, 12 * 38 / 30.0}));
}

TEST(DetectionInputTest, ResizesMasksNearestExactAndFlipsThem) {
  const std::string root = WriteTinyVoc();
  absl::StatusOr<std::vector<DetectionRecord>> records =
      LoadVocRecords(root, {"FMS2007_test"}, kSceneClasses);
  MOCHI_ASSERT_OK(records);
  DetectionRecord record = (*records)[0];
  record.boxes.resize(1);
  record.classes.resize(1);
  record.difficult.resize(1);
  // The bag's box as a mask: x 4..23, y 2..11 on the 40x30 image.
  coco::BinaryMask mask{30, 40, std::vector<uint8_t>(40 * 30, 0)};
  for (int y = 2; y < 12; ++y) {
    for (int x = 4; x < 24; ++x) mask.pixels[y * 40 + x] = 1;
  }
  record.masks = {coco::EncodeMask(mask)};
  // Halved (min_size 15): output pixel j samples input pixel 2j + 1, so columns 2..11 and rows
  // 1..5 are set; flipped, columns 8..17.
  absl::StatusOr<DetectionInput> input = LoadDetectionInput(record, 1, 15, 1000, false);
  MOCHI_ASSERT_OK(input);
  EXPECT_EQ(input->original_height, 30);
  EXPECT_EQ(input->original_width, 40);
  ASSERT_THAT(input->targets.masks.sizes(), ElementsAre(1, 15, 20));
  at::Tensor expected = at::zeros({15, 20});
  expected.slice(0, 1, 6).slice(1, 2, 12).fill_(1);
  EXPECT_TRUE(at::equal(input->targets.masks[0], expected));
  absl::StatusOr<DetectionInput> flipped = LoadDetectionInput(record, 1, 15, 1000, true);
  MOCHI_ASSERT_OK(flipped);
  EXPECT_TRUE(at::equal(flipped->targets.masks[0], expected.flip({1})));
  // A mask of another size than its image is an error, not a silent misalignment.
  mask.height = 20;
  mask.pixels.resize(40 * 20);
  record.masks = {coco::EncodeMask(mask)};
  EXPECT_THAT(LoadDetectionInput(record, 1, 15, 1000, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a mask of 20 x 40")));
}

TEST(DetectionRunOptionsTest, RefusesContradictoryFlags) {
  EXPECT_THAT(MakeDetectionRunOptions("runs/a", true, "", "", "/tmp/out", true, false, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exclusive")));
  EXPECT_THAT(MakeDetectionRunOptions("", true, "", "", "", true, false, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--output_dir")));
  absl::StatusOr<DetectionRunOptions> run =
      MakeDetectionRunOptions("/runs/a", false, "", "/data/coco", "/tmp/out", false, true, 7);
  MOCHI_ASSERT_OK(run);
  EXPECT_EQ(run->checkpoint, "/runs/a");
  EXPECT_EQ(run->coco_root, "/data/coco");
  EXPECT_TRUE(run->voc_root.empty());
  EXPECT_FALSE(run->evaluate);
  EXPECT_TRUE(run->resume);
  EXPECT_EQ(run->max_iters, 7);
}

TEST(DetectionConfigTest, ValidateChecksTheFasterRcnnFields) {
  MOCHI_EXPECT_OK(Validate(FmsConfig()));
  proto::DetectionConfig config = FmsConfig();
  config.add_class_names("extra");
  config.add_anchor_sizes(-8);
  config.set_roi_positive_fraction(0);
  config.set_test_nms_thresh(1.5);
  config.set_detections_per_image(0);
  const absl::Status status = Validate(config);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               ::testing::AllOf(
                                   HasSubstr("class_names"), HasSubstr("anchor_sizes[3]"),
                                   HasSubstr("roi_positive_fraction"), HasSubstr("test_nms_thresh"),
                                   HasSubstr("detections_per_image"))));
}

TEST(DetectionScheduleTest, WarmsUpLinearlyThenSteps) {
  proto::DetectionConfig config;
  config.set_base_lr(0.02);
  config.set_warmup_iters(100);
  config.set_warmup_factor(0.001f);
  config.add_steps(1000);
  config.add_steps(2000);
  EXPECT_NEAR(DetectionLearningRate(config, 0), 0.02 * 0.001, 1e-9);
  EXPECT_NEAR(DetectionLearningRate(config, 50), 0.02 * (0.001 * 0.5 + 0.5), 1e-7);
  EXPECT_NEAR(DetectionLearningRate(config, 100), 0.02, 1e-9);
  EXPECT_NEAR(DetectionLearningRate(config, 999), 0.02, 1e-9);
  EXPECT_NEAR(DetectionLearningRate(config, 1000), 0.002, 1e-9);
  EXPECT_NEAR(DetectionLearningRate(config, 2500), 0.0002, 1e-9);
}

TEST(DetectionResultsTest, WritesVocFilesAsDetectron2AndTheyParseBack) {
  const std::string dir = TempDir("voc_results");
  std::vector<ImageDetections> detections = {
      {"000001", {{1, 0.98765f, 9.5f, 19.f, 48.f, 49.25f}, {0, 0.5f, 0, 0, 10, 10}}},
      {"000002", {{1, 0.25f, 1, 2, 3, 4}}}};
  MOCHI_ASSERT_OK(WriteVocResults(dir, "comp4_", {"bag", "dress", "coat"}, detections));
  absl::StatusOr<std::string> dress = ReadFileToString(dir + "/comp4_dress.txt");
  MOCHI_ASSERT_OK(dress);
  EXPECT_EQ(*dress,
            "000001 0.988 10.5 20.0 48.0 49.2\n"
            "000002 0.250 2.0 3.0 3.0 4.0\n");
  absl::StatusOr<std::string> coat = ReadFileToString(dir + "/comp4_coat.txt");
  MOCHI_ASSERT_OK(coat);
  EXPECT_EQ(*coat, "");  // every class gets a file
  absl::StatusOr<std::vector<voc::VocDetection>> parsed = voc::ParseVocResults(*dress, "dress");
  MOCHI_ASSERT_OK(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].image_id, "000001");
  EXPECT_DOUBLE_EQ((*parsed)[0].xmin, 10.5);

  EXPECT_THAT(WriteVocResults(dir, "", {"bag"}, detections),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("class index 1")));
}

TEST(DetectionResultsTest, WritesCocoResultsJson) {
  const std::string path = TempDir("coco") + "/results.json";
  MOCHI_ASSERT_OK(WriteCocoResults(
      path, {1, 5},
      {{"000012", {{1, 0.5f, 10, 20, 40, 60}}}, {"img_a", {{0, 0.25f, 0, 0, 1, 2}}}}));
  absl::StatusOr<std::string> text = ReadFileToString(path);
  MOCHI_ASSERT_OK(text);
  const nlohmann::json json = nlohmann::json::parse(*text);
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["image_id"], 12);
  EXPECT_EQ(json[0]["category_id"], 5);
  EXPECT_EQ(json[0]["bbox"], nlohmann::json({10.0, 20.0, 30.0, 40.0}));
  EXPECT_DOUBLE_EQ(json[0]["score"].get<double>(), 0.5);
  EXPECT_EQ(json[1]["image_id"], "img_a");
}

// A pretraining run directory (config.pbtxt + checkpoint.pt) of a width-`width` MoCo-v2,
// written with SaveCheckpoint directly (no training needed to test loading).
std::string WritePretrainRun(const std::string& name, int width, int checkpoint_width) {
  const std::string dir = TempDir(name);
  const auto make = [](int w) {
    absl::StatusOr<proto::PretrainConfig> config = LoadConfig<proto::PretrainConfig>(
        "configs/pretrain/mocov2_fmnist.pbtxt",
        absl::StrCat("backbone { width: ", w,
                     " } head { output_dim: 16 } moco { queue_size: 256 } batch_size: 128"));
    EXPECT_THAT(config, IsOk());
    return *config;
  };
  const proto::PretrainConfig config = make(width);
  EXPECT_THAT(WriteFileAtomically(dir + "/config.pbtxt", ToTextProto(config)), IsOk());
  absl::StatusOr<ssl::Moco> moco = BuildMoco(make(checkpoint_width));
  EXPECT_THAT(moco, IsOk());
  torch::optim::SGD sgd((*moco)->parameters(), torch::optim::SGDOptions(0.1));
  EXPECT_THAT(SaveCheckpoint(dir + "/checkpoint.pt", **moco, sgd, TrainPosition{}, {}), IsOk());
  return dir;
}

TEST(DetectionBackboneTest, LoadsTheQueryBackboneOfAPretrainingRun) {
  const std::string run = WritePretrainRun("run_w4", 4, 4);
  proto::DetectionConfig config = FmsConfig("backbone { width: 4 }");
  config.mutable_init()->set_checkpoint(run);
  absl::StatusOr<models::ResNet> backbone = BuildDetectionBackbone(config);
  MOCHI_ASSERT_OK(backbone);
  EXPECT_EQ((*backbone)->options().width(), 4);
  // Same weights as the checkpoint's encoder_q.backbone.
  absl::StatusOr<proto::PretrainConfig> pretrain =
      LoadConfig<proto::PretrainConfig>(run + "/config.pbtxt");
  MOCHI_ASSERT_OK(pretrain);
  absl::StatusOr<ssl::Moco> moco = BuildMoco(*pretrain);
  MOCHI_ASSERT_OK(moco);
  MOCHI_ASSERT_OK(LoadCheckpoint(run + "/checkpoint.pt", **moco, nullptr, {}).status());
  const auto expected = (*moco)->encoder_q->backbone->named_parameters();
  const auto actual = (*backbone)->named_parameters();
  EXPECT_TRUE(at::equal(expected["layer3.1.conv2.weight"], actual["layer3.1.conv2.weight"]));
  EXPECT_TRUE(at::equal(expected["conv1.weight"], actual["conv1.weight"]));

  // The detector builds on it and runs.
  absl::StatusOr<FasterRcnn> model = MakeFasterRcnn(*backbone, BuildFasterRcnnOptions(config));
  MOCHI_ASSERT_OK(model);
  EXPECT_EQ((*model)->backbone()->res4_stride(), 8);  // the pretraining's stride-2 small-input stem
}

TEST(DetectionBackboneTest, RejectsACheckpointOfAnotherArchitecture) {
  const std::string run = WritePretrainRun("run_w8", 8, 8);
  proto::DetectionConfig config = FmsConfig("backbone { width: 4 }");
  config.mutable_init()->set_checkpoint(run);
  EXPECT_THAT(BuildDetectionBackbone(config),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::AllOf(HasSubstr("width 8"), HasSubstr("width 4"))));
  // A config.pbtxt that claims width 4 beside width-8 weights: the load itself refuses.
  const std::string lying = WritePretrainRun("run_lying", 4, 8);
  config.mutable_init()->set_checkpoint(lying);
  EXPECT_THAT(BuildDetectionBackbone(config),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("checkpoint.pt")));
  config.mutable_init()->set_checkpoint(TempDir("empty_run"));
  EXPECT_THAT(BuildDetectionBackbone(config), StatusIs(absl::StatusCode::kNotFound));
}

// A few small scenes written to `dir` (both tasks unless switched off by the caller).
eval::scenes::MakeScenesOptions TinyScenes(const std::string& dir) {
  eval::scenes::MakeScenesOptions make;
  make.output_dir = dir;
  make.num_train = 8;
  make.num_val = 4;
  make.num_test = 4;
  make.canvas = 96;
  make.item_limit = 200;
  return make;
}

// Four iterations of two images: enough to run every stage, not to learn.
void UseTinySchedule(proto::DetectionConfig& config) {
  config.set_max_iter(4);
  config.clear_steps();
  config.add_steps(3);
  config.set_warmup_iters(2);
  config.set_ims_per_batch(2);
  config.set_log_every_iters(2);
}

TEST(RunDetectionTest, TrainsDetectsAndEvaluatesOnTinyScenes) {
  const std::string scenes = TempDir("scenes");
  eval::scenes::MakeScenesOptions make = TinyScenes(scenes);
  make.coco = false;
  absl::StatusOr<std::vector<eval::scenes::TaskSummary>> made = eval::scenes::MakeScenes(make);
  MOCHI_ASSERT_OK(made);

  DetectionRunOptions run;
  run.output_dir = TempDir("det_run");
  run.voc_root = scenes + "/VOCdevkit";
  run.random_init = true;
  proto::DetectionConfig config = FmsConfig("backbone { width: 4 }");
  UseTinySchedule(config);
  MOCHI_ASSERT_OK(RunDetection(config, run));
  for (const char* file :
       {"/config.pbtxt", "/model_final.pt", "/metrics.json", "/voc_results/bag.txt"}) {
    EXPECT_TRUE(std::filesystem::exists(run.output_dir + file)) << file;
  }
  absl::StatusOr<proto::TransferResult> result =
      ReadJsonProtoFile<proto::TransferResult>(run.output_dir + "/metrics.json");
  MOCHI_ASSERT_OK(result);
  ASSERT_TRUE(result->has_voc());  // a VOC test set is scored by the VOC evaluator only
  EXPECT_FALSE(result->has_bbox());
  EXPECT_EQ(result->voc().metric(), "voc07_11pt");
  EXPECT_TRUE(result->voc().has_ap50());
  EXPECT_TRUE(result->voc().has_ap75());
  EXPECT_EQ(result->voc().per_class_size(), config.class_names_size());
  EXPECT_EQ(result->last_iter().iter(), config.max_iter());
  EXPECT_EQ(result->test_images(), make.num_test);

  // A bad config is rejected before any tensor is allocated.
  config.set_max_iter(0);
  EXPECT_THAT(RunDetection(config, run),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_iter")));
  config.set_max_iter(4);
  config.clear_class_names();
  EXPECT_THAT(RunDetection(config, run),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("class_names")));
}

// A transfer stopped after 3 of 6 iterations (the path SIGINT/SIGTERM take) and resumed ends
// bit for bit where an uninterrupted one ends: the same last-iteration losses and the same
// detections and AP.
TEST(RunDetectionTest, ResumedTransferEqualsAnUninterruptedOne) {
  const std::string scenes = TempDir("resume_scenes");
  eval::scenes::MakeScenesOptions make = TinyScenes(scenes);
  make.coco = false;
  MOCHI_ASSERT_OK(eval::scenes::MakeScenes(make));
  proto::DetectionConfig config = FmsConfig("backbone { width: 4 }");
  UseTinySchedule(config);
  config.set_max_iter(6);
  config.set_checkpoint_every_iters(2);

  DetectionRunOptions run;
  run.voc_root = scenes + "/VOCdevkit";
  run.random_init = true;
  run.output_dir = TempDir("straight_transfer");
  MOCHI_ASSERT_OK(RunDetection(config, run));

  DetectionRunOptions interrupted = run;
  interrupted.output_dir = TempDir("resumed_transfer");
  interrupted.max_iters = 3;
  MOCHI_ASSERT_OK(RunDetection(config, interrupted));
  EXPECT_TRUE(std::filesystem::exists(interrupted.output_dir + "/checkpoint.pt"));
  EXPECT_FALSE(std::filesystem::exists(interrupted.output_dir + "/metrics.json"));
  interrupted.max_iters = 0;
  EXPECT_THAT(RunDetection(config, interrupted),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("--resume")));
  interrupted.resume = true;
  proto::DetectionConfig other = config;
  other.set_base_lr(config.base_lr() * 2);
  EXPECT_THAT(RunDetection(other, interrupted),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("different config")));
  MOCHI_ASSERT_OK(RunDetection(config, interrupted));

  absl::StatusOr<proto::TransferResult> straight =
      ReadJsonProtoFile<proto::TransferResult>(run.output_dir + "/metrics.json");
  absl::StatusOr<proto::TransferResult> resumed =
      ReadJsonProtoFile<proto::TransferResult>(interrupted.output_dir + "/metrics.json");
  MOCHI_ASSERT_OK(straight);
  MOCHI_ASSERT_OK(resumed);
  EXPECT_EQ(resumed->last_iter().iter(), 6);
  EXPECT_EQ(ToJsonLine(resumed->last_iter()), ToJsonLine(straight->last_iter()));
  EXPECT_EQ(ToJsonLine(resumed->voc()), ToJsonLine(straight->voc()));
  for (const std::string& name : config.class_names()) {
    absl::StatusOr<std::string> a =
        ReadFileToString(run.output_dir + "/voc_results/" + name + ".txt");
    absl::StatusOr<std::string> b =
        ReadFileToString(interrupted.output_dir + "/voc_results/" + name + ".txt");
    MOCHI_ASSERT_OK(a);
    MOCHI_ASSERT_OK(b);
    EXPECT_EQ(*a, *b) << name << ": detections differ";
  }
}

// The default segmentation config, checked into configs/.
proto::SegmentationConfig FmsSegmentationConfig(const std::string& override_text = "") {
  absl::StatusOr<proto::SegmentationConfig> config = LoadConfig<proto::SegmentationConfig>(
      "configs/segmentation/fms_coco_r18_c4.pbtxt", override_text);
  EXPECT_THAT(config, IsOk());
  return config.ok() ? *config : proto::SegmentationConfig();
}

TEST(RunSegmentationTest, TrainsAndScoresBoxesAndMasksOnTinyCocoScenes) {
  const std::string scenes = TempDir("coco_scenes");
  eval::scenes::MakeScenesOptions make = TinyScenes(scenes);
  make.voc = false;
  MOCHI_ASSERT_OK(eval::scenes::MakeScenes(make));

  DetectionRunOptions run;
  run.output_dir = TempDir("seg_run");
  run.coco_root = scenes + "/coco";
  run.random_init = true;
  proto::SegmentationConfig config = FmsSegmentationConfig("detection { backbone { width: 4 } }");
  proto::DetectionConfig& detection = *config.mutable_detection();
  UseTinySchedule(detection);
  MOCHI_ASSERT_OK(RunSegmentation(config, run));
  absl::StatusOr<proto::TransferResult> scores =
      ReadJsonProtoFile<proto::TransferResult>(run.output_dir + "/metrics.json");
  MOCHI_ASSERT_OK(scores);
  EXPECT_FALSE(scores->has_voc());
  ASSERT_TRUE(scores->has_bbox());
  ASSERT_TRUE(scores->has_segm());
  for (const proto::CocoMetrics* metrics : {&scores->bbox(), &scores->segm()}) {
    EXPECT_GE(metrics->ap(), -1);
    EXPECT_LE(metrics->ap(), 1);
    EXPECT_TRUE(metrics->has_ar_large());
  }
  EXPECT_TRUE(scores->last_iter().has_loss_mask());
  absl::StatusOr<std::string> text = ReadFileToString(run.output_dir + "/coco_results.json");
  MOCHI_ASSERT_OK(text);
  const nlohmann::json results = nlohmann::json::parse(*text);
  ASSERT_GT(results.size(), 0u);  // a random detector still outputs boxes above 0.05
  EXPECT_THAT(results[0]["segmentation"]["size"].get<std::vector<int>>(), ElementsAre(96, 96));
  EXPECT_TRUE(results[0]["segmentation"]["counts"].is_string());
  text = ReadFileToString(run.output_dir + "/config.pbtxt");
  MOCHI_ASSERT_OK(text);
  EXPECT_THAT(*text, HasSubstr("mochi.proto.SegmentationConfig"));
  EXPECT_THAT(*text, HasSubstr(scenes + "/coco/annotations/instances_val.json"));

  // Faster R-CNN alone on the same COCO data scores boxes only (a DetectionConfig carries its own
  // run metadata, which a SegmentationConfig's detection leaves out).
  *detection.mutable_run() = config.run();
  DetectionRunOptions box_run = run;
  box_run.output_dir = TempDir("coco_det_run");
  MOCHI_ASSERT_OK(RunDetection(detection, box_run));
  scores = ReadJsonProtoFile<proto::TransferResult>(box_run.output_dir + "/metrics.json");
  MOCHI_ASSERT_OK(scores);
  EXPECT_TRUE(scores->has_bbox());
  EXPECT_FALSE(scores->has_segm());
  EXPECT_FALSE(scores->last_iter().has_loss_mask());

  // Masks cannot come from VOC, and the C4 head only predicts 14 x 14 masks.
  proto::SegmentationConfig voc = config;
  voc.mutable_detection()->mutable_train()->set_voc_root("/tmp/VOCdevkit");
  voc.mutable_detection()->mutable_train()->add_image_sets("2007_trainval");
  EXPECT_THAT(RunSegmentation(voc, run),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("COCO-format")));
  config.set_mask_resolution(28);
  EXPECT_THAT(RunSegmentation(config, run),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mask_resolution")));
  // A config whose class count differs from the annotations' categories.
  config.set_mask_resolution(14);
  config.mutable_detection()->set_num_classes(3);
  EXPECT_THAT(RunSegmentation(config, run),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("10 categories")));
}

}  // namespace
}  // namespace mochi::eval::detection
