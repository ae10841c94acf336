// Runs MoCo's formulas (//mochi/ssl:moco) on the inputs moco_reference_test.py wrote, for its
// comparison with plain PyTorch written as the MoCo paper's pseudocode and moco/builder.py.
// Tensor-dict keys (tests/testing:tensor_dict):
//   infonce/C/{q, k, queue, tau} -> infonce/C/{loss, grad_q, loss_streamed, grad_q_streamed}
//     (the materialised head and the streamed head with 5-row tiles)
//   enqueue/C/{queue, ptr, keys_0, keys_1, ...} -> enqueue/C/{queue_after_J, ptr_after_J}
//   momentum/C/{m, seed} -> momentum/{q_I, k_before_I, k_after_I} per parameter I of a small
//     encoder pair whose query encoder was moved away from the key encoder
//   usage: moco_formula_cases IN.pt OUT.pt
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "ATen/ATen.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mochi/port/status_macros.h"
#include "mochi/ssl/moco.h"
#include "tests/testing/tensor_dict.h"
#include "tests/testing/tiny_encoder.h"
#include "torch/autograd.h"

namespace mochi::ssl {
namespace {

using ::mochi::testing::TensorDict;

Moco SmallMoco(int64_t queue_size, int64_t dim, double momentum) {
  MocoOptions options;
  options.queue_size = queue_size;
  options.momentum = momentum;
  Encoder q = testing::TinyEncoder(dim);
  Encoder k = testing::TinyEncoder(dim);
  return Moco(q, k, options);
}

void RunInfoNce(const std::string& prefix, const TensorDict& in, TensorDict& out) {
  const double tau = in.at(prefix + "tau").item<double>();
  for (const int64_t tile : {int64_t{0}, int64_t{5}}) {
    const at::Tensor q = in.at(prefix + "q").clone().set_requires_grad(true);
    const ContrastiveLoss loss = ComputeContrastiveLoss(
        q, in.at(prefix + "k"), in.at(prefix + "queue"), tau, nullptr, c10::nullopt, tile);
    const at::Tensor grad = torch::autograd::grad({loss.loss}, {q})[0];
    const std::string suffix = tile == 0 ? "" : "_streamed";
    out[prefix + "loss" + suffix] = loss.loss.detach();
    out[prefix + "grad_q" + suffix] = grad;
  }
}

void RunEnqueue(const std::string& prefix, const TensorDict& in, TensorDict& out) {
  const at::Tensor queue = in.at(prefix + "queue");
  Moco moco = SmallMoco(queue.size(0), queue.size(1), 0.999);
  moco->queue.copy_(queue);
  moco->queue_ptr.fill_(in.at(prefix + "ptr").item<int64_t>());
  for (int j = 0; in.count(absl::StrCat(prefix, "keys_", j)) > 0; ++j) {
    const at::Tensor keys = in.at(absl::StrCat(prefix, "keys_", j));
    moco->Enqueue(keys, at::zeros({keys.size(0)}, at::kLong));
    out[absl::StrCat(prefix, "queue_after_", j)] = moco->queue.clone();
    out[absl::StrCat(prefix, "ptr_after_", j)] = moco->queue_ptr.clone();
  }
}

void RunMomentum(const std::string& prefix, const TensorDict& in, TensorDict& out) {
  at::manual_seed(in.at(prefix + "seed").item<int64_t>());
  Moco moco = SmallMoco(8, 3, in.at(prefix + "m").item<double>());
  {
    at::NoGradGuard no_grad;  // a query encoder some SGD steps away from the key encoder
    for (at::Tensor& p : moco->encoder_q->parameters()) p.add_(at::randn_like(p) * 0.1);
  }
  const auto params_q = moco->encoder_q->parameters();
  const auto params_k = moco->encoder_k->parameters();
  for (size_t i = 0; i < params_q.size(); ++i) {
    out[absl::StrCat("momentum/q_", i)] = params_q[i].detach().clone();
    out[absl::StrCat("momentum/k_before_", i)] = params_k[i].clone();
  }
  moco->MomentumUpdate();
  for (size_t i = 0; i < params_k.size(); ++i) {
    out[absl::StrCat("momentum/k_after_", i)] = params_k[i].clone();
  }
}

absl::Status Run(const std::string& in_path, const std::string& out_path) {
  MOCHI_ASSIGN_OR_RETURN(const TensorDict in, testing::ReadTensorDict(in_path));
  MOCHI_ASSIGN_OR_RETURN(const std::set<std::string> prefixes, testing::CasePrefixes(in));
  TensorDict out;
  for (const std::string& prefix : prefixes) {
    if (prefix.rfind("infonce/", 0) == 0) RunInfoNce(prefix, in, out);
    if (prefix.rfind("enqueue/", 0) == 0) RunEnqueue(prefix, in, out);
    if (prefix.rfind("momentum/", 0) == 0) RunMomentum(prefix, in, out);
  }
  return testing::WriteTensorDict(out_path, out);
}

}  // namespace
}  // namespace mochi::ssl

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: moco_formula_cases IN.pt OUT.pt\n");
    return EXIT_FAILURE;
  }
  const absl::Status status = mochi::ssl::Run(argv[1], argv[2]);
  if (!status.ok()) {
    std::fprintf(stderr, "moco_formula_cases: %s\n", status.ToString().c_str());
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
