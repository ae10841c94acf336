// The kNN monitor of a pretraining run: after the last epoch, the query backbone's features
// kNN-classify the Fashion-MNIST test split (k = 200, tau = 0.07, cosine) with the training set
// as the bank, beside the same protocol on raw pixels. Writes knn.json (results.proto KnnResult).
#ifndef EVAL_KNN_KNN_MONITOR_H_
#define EVAL_KNN_KNN_MONITOR_H_

#include "mochi/engine/pretrain.h"

namespace mochi::eval {

// For RunPretrain's extra_hooks: a hook on the chief of a Fashion-MNIST run; null otherwise.
PretrainHookFactory KnnMonitor();

}  // namespace mochi::eval

#endif  // EVAL_KNN_KNN_MONITOR_H_
