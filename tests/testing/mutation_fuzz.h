// Seeded mutation fuzzing for the parsers of external input (idx, COCO JSON, VOC XML, text-proto
// configs, checkpoints), bounded so that it runs in `bazel test //...`.
//
// Mutator makes the mutations a coverage-free fuzzer (AFL's havoc stage, libFuzzer's mutators)
// makes: bit flips, interesting bytes and big-endian int32s, deletions, duplications,
// truncations, and tokens from a per-format dictionary, 1 to 4 stacked. FuzzParser feeds
// mutations of valid seed inputs to a parser and checks what a parser of untrusted input owes
// its caller: it returns (no crash, no hang: each input within a second), and a rejection is an
// error status with a message.
//
// Example:
//   FuzzReport report = FuzzParser({valid_json}, {"null", "[]", "1e999"}, 3000,
//                                  [](const std::string& input) { return Parse(input).status(); });
//   EXPECT_EQ(report.failures, 0) << report.first_failure;
#ifndef TESTS_TESTING_MUTATION_FUZZ_H_
#define TESTS_TESTING_MUTATION_FUZZ_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace mochi::testing {

class Mutator {
 public:
  Mutator(uint64_t seed, std::vector<std::string> dictionary)
      : rng_(seed), dictionary_(std::move(dictionary)) {}

  // 1 to 4 stacked mutations of `input`.
  std::string Mutate(const std::string& input);

 private:
  void MutateOnce(std::string& data);
  size_t Below(size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }

  std::mt19937_64 rng_;
  std::vector<std::string> dictionary_;
};

// Structure-aware mutations of JSON, so that most inputs stay JSON and reach a reader's checks:
// 1 to 3 times, a random node replaced by an interesting value (null, -1, 1e308, 2^32, "", [],
// {}, ...), an array element duplicated or removed, or an object member removed. Input that is
// not JSON gets the byte-level mutations.
class JsonMutator {
 public:
  explicit JsonMutator(uint64_t seed) : rng_(seed), bytes_(seed, {}) {}
  std::string Mutate(const std::string& input);

 private:
  size_t Below(size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }
  std::mt19937_64 rng_;
  Mutator bytes_;
};

struct FuzzReport {
  int inputs = 0;    // mutated inputs parsed
  int accepted = 0;  // parsed OK
  int rejected = 0;  // a clear error
  int failures = 0;  // an error without a message, or a parse slower than a second
  std::string first_failure;
  double slowest_seconds = 0;
};

using ParseFn = std::function<absl::Status(const std::string&)>;
using MutateFn = std::function<std::string(const std::string&)>;

// Runs `parse` on `iterations` inputs `mutate` makes from `seeds` (round robin).
FuzzReport FuzzParser(const std::vector<std::string>& seeds, int iterations, const MutateFn& mutate,
                      const ParseFn& parse);

// The same with Mutator's byte-level mutations, seeded by `seed`.
FuzzReport FuzzParser(const std::vector<std::string>& seeds,
                      const std::vector<std::string>& dictionary, int iterations,
                      const ParseFn& parse, uint64_t seed = 20261207);

}  // namespace mochi::testing

#endif  // TESTS_TESTING_MUTATION_FUZZ_H_
