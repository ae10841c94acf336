#include "mochi/engine/trainer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/data/dataset.h"
#include "mochi/data/loader.h"
#include "mochi/engine/hooks.h"
#include "tests/testing/status_matchers.h"
#include "torch/optim/sgd.h"

namespace mochi {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// 10 one-pixel images; label = index.
class TenImages : public data::Dataset {
 public:
  int64_t size() const override { return 10; }
  int num_classes() const override { return 10; }
  int channels() const override { return 1; }
  absl::StatusOr<data::Example> Get(int64_t index) const override {
    return data::Example{at::full({1, 1, 1}, index, at::kByte), index};
  }
  std::string Describe() const override { return "ten_images"; }
};

absl::StatusOr<std::vector<at::Tensor>> OneView(const data::Example& example, uint64_t) {
  return std::vector<at::Tensor>{example.image.to(at::kFloat)};
}

std::unique_ptr<data::DataLoader> Loader(const data::Dataset& dataset) {
  data::LoaderOptions options;
  options.batch_size = 4;  // drop_last: 2 batches of 10 images per epoch
  options.seed = 7;
  absl::StatusOr<std::unique_ptr<data::DataLoader>> loader =
      data::DataLoader::Create(&dataset, OneView, options);
  EXPECT_TRUE(loader.ok()) << loader.status();
  return *std::move(loader);
}

// Records every call; the "loss" of an epoch is the sum of its batches' labels.
class RecordingObjective : public Objective {
 public:
  explicit RecordingObjective(std::vector<std::string>& log) : log_(log) {}
  void BeginEpoch(const TrainerState& state) override {
    log_.push_back(absl::StrCat("begin ", state.epoch));
    sum_ = 0;
  }
  absl::Status Step(const data::Batch& batch) override {
    log_.push_back(absl::StrCat("step ", batch.step_in_epoch));
    sum_ += batch.labels.sum().item<int64_t>();
    labels_seen.push_back(batch.labels.sum().item<int64_t>());
    return absl::OkStatus();
  }
  EpochMetrics Summary() const override {
    EpochMetrics m;
    m.objective = "recording";
    m.loss = sum_;
    return m;
  }
  std::vector<int64_t> labels_seen;

 private:
  std::vector<std::string>& log_;
  double sum_ = 0;
};

class RecordingHook : public HookBase {
 public:
  RecordingHook(std::vector<std::string>& log, int64_t stop_at_step = -1)
      : log_(log), stop_at_step_(stop_at_step) {}
  absl::Status BeforeTrain(TrainerState&) override { return Log("before_train"); }
  absl::Status BeforeEpoch(TrainerState& s) override {
    return Log(absl::StrCat("before_epoch ", s.epoch));
  }
  absl::Status BeforeStep(TrainerState& s) override {
    return Log(absl::StrCat("before_step ", s.position.global_step));
  }
  absl::Status AfterStep(TrainerState& s) override {
    if (s.position.global_step == stop_at_step_) s.stop = absl::CancelledError("stop");
    return Log(absl::StrCat("after_step ", s.position.global_step));
  }
  absl::Status AfterEpoch(TrainerState& s, const EpochMetrics& m) override {
    return Log(absl::StrCat("after_epoch ", s.epoch, " next ", s.position.epoch, " loss ", m.loss));
  }
  absl::Status OnStop(TrainerState& s) override {
    return Log(absl::StrCat("on_stop ", s.position.epoch, ":", s.position.step_in_epoch));
  }
  absl::Status AfterTrain(TrainerState&) override { return Log("after_train"); }

 private:
  absl::Status Log(std::string line) {
    log_.push_back(std::move(line));
    return absl::OkStatus();
  }
  std::vector<std::string>& log_;
  const int64_t stop_at_step_;
};

TEST(TrainerTest, RunsEpochsOfStepsWithHooksInOrder) {
  TenImages dataset;
  std::unique_ptr<data::DataLoader> loader = Loader(dataset);
  std::vector<std::string> log;
  RecordingObjective objective(log);
  std::vector<std::unique_ptr<HookBase>> hooks;
  hooks.push_back(std::make_unique<RecordingHook>(log));
  TrainerState state;
  state.epochs = 2;
  state.steps_per_epoch = loader->batches_per_epoch();
  ASSERT_EQ(state.steps_per_epoch, 2);
  ASSERT_TRUE(Train(*loader, objective, hooks, state).ok());
  const int64_t loss0 = objective.labels_seen[0] + objective.labels_seen[1];
  const int64_t loss1 = objective.labels_seen[2] + objective.labels_seen[3];
  EXPECT_THAT(
      log, ElementsAreArray<std::string>(
               {"before_train", "before_epoch 0", "begin 0", "before_step 0", "step 0",
                "after_step 1", "before_step 1", "step 1", "after_step 2",
                absl::StrCat("after_epoch 0 next 1 loss ", loss0), "before_epoch 1", "begin 1",
                "before_step 2", "step 0", "after_step 3", "before_step 3", "step 1",
                "after_step 4", absl::StrCat("after_epoch 1 next 2 loss ", loss1),
                "after_train"}));
  EXPECT_EQ(state.position.global_step, 4);
  EXPECT_EQ(state.position.epoch, 2);
}

TEST(TrainerTest, StopEndsAfterTheStepAndResumeSkipsTheBatchesDone) {
  TenImages dataset;
  std::vector<std::string> full_log;
  RecordingObjective full(full_log);
  {
    std::unique_ptr<data::DataLoader> loader = Loader(dataset);
    std::vector<std::unique_ptr<HookBase>> none;
    TrainerState state;
    state.epochs = 2;
    ASSERT_TRUE(Train(*loader, full, none, state).ok());
  }

  std::vector<std::string> log;
  RecordingObjective first(log);
  std::vector<std::unique_ptr<HookBase>> hooks;
  hooks.push_back(std::make_unique<RecordingHook>(log, /*stop_at_step=*/3));
  TrainerState state;
  state.epochs = 2;
  std::unique_ptr<data::DataLoader> loader = Loader(dataset);
  EXPECT_THAT(Train(*loader, first, hooks, state), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(log.back(), "on_stop 1:1");  // epoch 1, one batch done
  EXPECT_EQ(state.position.global_step, 3);

  // A fresh loader from the stopped position: the remaining batch only, the same one as in the
  // uninterrupted run.
  std::vector<std::string> resumed_log;
  RecordingObjective resumed(resumed_log);
  TrainerState resumed_state;
  resumed_state.epochs = 2;
  resumed_state.position = state.position;
  resumed_state.stop.reset();
  std::unique_ptr<data::DataLoader> fresh = Loader(dataset);
  std::vector<std::unique_ptr<HookBase>> none;
  ASSERT_TRUE(Train(*fresh, resumed, none, resumed_state).ok());
  EXPECT_THAT(resumed.labels_seen, ElementsAre(full.labels_seen[3]));
  EXPECT_THAT(first.labels_seen,
              ElementsAre(full.labels_seen[0], full.labels_seen[1], full.labels_seen[2]));
  EXPECT_EQ(resumed_state.position.global_step, 4);
}

TEST(TrainerTest, AHookErrorEndsTheRun) {
  class Failing : public HookBase {
    absl::Status AfterStep(TrainerState&) override { return absl::DataLossError("disk"); }
  };
  TenImages dataset;
  std::unique_ptr<data::DataLoader> loader = Loader(dataset);
  std::vector<std::string> log;
  RecordingObjective objective(log);
  std::vector<std::unique_ptr<HookBase>> hooks;
  hooks.push_back(std::make_unique<Failing>());
  TrainerState state;
  state.epochs = 2;
  EXPECT_THAT(Train(*loader, objective, hooks, state), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(state.position.global_step, 1);
}

// The schedule hook sets the learning rate per epoch, or per step for iteration-based training
// (detection), in state.lr and in the optimizer.
TEST(TrainerTest, LrScheduleHookSetsTheRateEveryEpochOrEveryStep) {
  TenImages dataset;
  for (const auto every : {LrScheduleHook::Every::kEpoch, LrScheduleHook::Every::kStep}) {
    at::Tensor weight = at::zeros({1}).requires_grad_(true);
    torch::optim::SGD sgd({weight}, torch::optim::SGDOptions(1.0));
    std::vector<double> seen;  // the optimizer's rate at each step
    class RateRecorder : public HookBase {
     public:
      RateRecorder(torch::optim::SGD& sgd, std::vector<double>& seen) : sgd_(sgd), seen_(seen) {}
      absl::Status AfterStep(TrainerState&) override {
        seen_.push_back(
            static_cast<torch::optim::SGDOptions&>(sgd_.param_groups()[0].options()).lr());
        return absl::OkStatus();
      }

     private:
      torch::optim::SGD& sgd_;
      std::vector<double>& seen_;
    };
    std::vector<std::unique_ptr<HookBase>> hooks;
    hooks.push_back(std::make_unique<LrScheduleHook>(
        [](int64_t t) { return 1.0 / (t + 1); }, &sgd, every));
    hooks.push_back(std::make_unique<RateRecorder>(sgd, seen));
    std::vector<std::string> log;
    RecordingObjective objective(log);
    std::unique_ptr<data::DataLoader> loader = Loader(dataset);
    TrainerState state;
    state.epochs = 2;
    ASSERT_TRUE(Train(*loader, objective, hooks, state).ok());
    if (every == LrScheduleHook::Every::kEpoch) {
      EXPECT_THAT(seen, ElementsAre(1.0, 1.0, 0.5, 0.5));  // t = epoch 0, 0, 1, 1
    } else {
      EXPECT_THAT(seen, ElementsAre(1.0, 0.5, 1.0 / 3, 0.25));  // t = step 0, 1, 2, 3
      EXPECT_EQ(state.lr, 0.25);
    }
  }
}

}  // namespace
}  // namespace mochi
