#include "mochi/engine/trainer.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mochi/port/status_macros.h"

namespace mochi {

absl::Status Train(BatchSource& batches, Objective& objective,
                   const std::vector<std::unique_ptr<HookBase>>& hooks, TrainerState& state) {
  for (const auto& hook : hooks) MOCHI_RETURN_IF_ERROR(hook->BeforeTrain(state));
  TrainPosition& position = state.position;
  while (position.epoch < state.epochs) {
    state.epoch = position.epoch;
    for (const auto& hook : hooks) MOCHI_RETURN_IF_ERROR(hook->BeforeEpoch(state));
    objective.BeginEpoch(state);
    MOCHI_RETURN_IF_ERROR(batches.StartEpoch(state.epoch));
    for (int64_t skip = 0; skip < position.step_in_epoch; ++skip) {  // resume mid-epoch
      MOCHI_ASSIGN_OR_RETURN(std::optional<data::Batch> ignored, batches.Next());
      (void)ignored;
    }
    const absl::Time epoch_start = absl::Now();
    while (true) {
      MOCHI_ASSIGN_OR_RETURN(std::optional<data::Batch> batch, batches.Next());
      if (!batch.has_value()) break;
      for (const auto& hook : hooks) MOCHI_RETURN_IF_ERROR(hook->BeforeStep(state));
      MOCHI_RETURN_IF_ERROR(objective.Step(*batch));
      ++position.step_in_epoch;
      ++position.global_step;
      for (const auto& hook : hooks) MOCHI_RETURN_IF_ERROR(hook->AfterStep(state));
      if (state.stop.has_value()) {
        for (const auto& hook : hooks) MOCHI_RETURN_IF_ERROR(hook->OnStop(state));
        return *state.stop;
      }
    }
    state.epoch_seconds = absl::ToDoubleSeconds(absl::Now() - epoch_start);
    const EpochMetrics metrics = objective.Summary();
    position.epoch = state.epoch + 1;
    position.step_in_epoch = 0;
    for (const auto& hook : hooks) MOCHI_RETURN_IF_ERROR(hook->AfterEpoch(state, metrics));
  }
  for (const auto& hook : hooks) MOCHI_RETURN_IF_ERROR(hook->AfterTrain(state));
  return absl::OkStatus();
}

absl::Status Train(data::DataLoader& loader, Objective& objective,
                   const std::vector<std::unique_ptr<HookBase>>& hooks, TrainerState& state) {
  LoaderBatches batches(loader);
  return Train(batches, objective, hooks, state);
}

}  // namespace mochi
