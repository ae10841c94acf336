// Compares two training checkpoints tensor by tensor: the model's parameters and buffers (queue
// and pointer included), the position and every RNG state (this process's and every rank's).
// The optimizer's state is keyed by parameter addresses, which differ between processes, so it
// is left out: it shows in the weights of any run that trains further.
// Byte comparison does not work: LibTorch writes a random serialization id into every archive.
//   usage: checkpoint_compare A.pt B.pt   (exit 0 when equal, 1 with the differences listed)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "torch/serialize/input-archive.h"

namespace {

// Counts the differences under `prefix`, printing the first few.
int Compare(torch::serialize::InputArchive& a, torch::serialize::InputArchive& b,
            const std::string& prefix) {
  int differences = 0;
  for (const std::string& key : a.keys()) {
    if (prefix.empty() && key == "optimizer") continue;
    const std::string name = prefix + key;
    at::Tensor ta, tb;
    if (a.try_read(key, ta)) {
      if (!b.try_read(key, tb)) {
        std::printf("%s: only in the first\n", name.c_str());
        ++differences;
      } else if (!ta.sizes().equals(tb.sizes()) || ta.scalar_type() != tb.scalar_type() ||
                 !at::equal(ta, tb)) {
        if (differences < 10) std::printf("%s differs\n", name.c_str());
        ++differences;
      }
      continue;
    }
    torch::serialize::InputArchive sa, sb;
    if (a.try_read(key, sa)) {
      if (!b.try_read(key, sb)) {
        std::printf("%s: only in the first\n", name.c_str());
        ++differences;
      } else {
        differences += Compare(sa, sb, name + ".");
      }
    }
  }
  if (b.keys().size() != a.keys().size()) {
    std::printf("%s: %zu keys against %zu\n", prefix.c_str(), a.keys().size(), b.keys().size());
    ++differences;
  }
  return differences;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: checkpoint_compare A.pt B.pt\n");
    return 2;
  }
  torch::serialize::InputArchive a, b;
  try {
    a.load_from(argv[1]);
    b.load_from(argv[2]);
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "checkpoint_compare: %s\n", e.what_without_backtrace());
    return 2;
  }
  const int differences = Compare(a, b, "");
  if (differences > 0) std::printf("%d tensors differ\n", differences);
  return differences == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
