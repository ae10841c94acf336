// Deterministic random numbers for data loading and augmentation.
//
// Everything here is defined bit-for-bit by this header (SplitMix64, Steele et al. 2014) and
// never uses the standard library's distributions, whose output differs between
// implementations. An augmentation seeded with the same value therefore gives the same
// result on every platform, thread and worker count.
#ifndef MOCHI_DATA_RNG_H_
#define MOCHI_DATA_RNG_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace mochi::data {

namespace rng_internal {

inline constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;  // 2^64 / golden ratio, odd

// The SplitMix64 output function: a bijection on 64-bit values with good avalanche.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace rng_internal

// Hash-combines two values into a new seed. For a fixed `a` it is a bijection in `b` (and
// vice versa), so distinct inputs never collide in one argument; MixSeed(a, b) != MixSeed(b, a)
// in general.
inline uint64_t MixSeed(uint64_t a, uint64_t b) {
  using rng_internal::kGolden;
  using rng_internal::Mix64;
  return Mix64(Mix64(a ^ 0x6A09E667F3BCC909ULL) + kGolden * (b + 1));
}

// The seed of `view` of sample `index` in `epoch` of a run seeded with `base_seed`.
// The loader hands each transform SampleSeed(seed, epoch, index, /*view=*/0); a transform
// that makes several views derives one seed per view with MixSeed(sample_seed, view).
inline uint64_t SampleSeed(uint64_t base_seed, int64_t epoch, int64_t index, int view) {
  uint64_t s = MixSeed(base_seed, static_cast<uint64_t>(epoch));
  s = MixSeed(s, static_cast<uint64_t>(index));
  return MixSeed(s, static_cast<uint64_t>(static_cast<int64_t>(view)));
}

// Counter-based draws: the key of stream `stream` under `key`, and element `e` of a stream, which
// is Rng(stream_key)'s (e + 1)-th NextU64(). Any element is computed alone, so draws made in
// parallel do not depend on the thread count (MoCHi's mixing draws).
inline uint64_t StreamKey(uint64_t key, uint64_t stream) {
  return rng_internal::Mix64(key ^ rng_internal::Mix64(stream + 1));
}
inline uint64_t CounterBits(uint64_t stream_key, int64_t e) {
  return rng_internal::Mix64(stream_key + static_cast<uint64_t>(e + 1) * rng_internal::kGolden);
}

// A small, fast, non-cryptographic generator (SplitMix64). Not thread-safe: use one per
// thread or per sample.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t NextU64() {
    state_ += rng_internal::kGolden;
    return rng_internal::Mix64(state_);
  }

  // Uniform in [0, 1), from the top 53 bits (every value is a multiple of 2^-53).
  double Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

  // Uniform in [lo, hi) (exactly lo when lo == hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

  // True with probability p: never for p <= 0, always for p >= 1.
  bool Bernoulli(double p) { return Uniform() < p; }

  // Uniform in [0, n) for n > 0 (n <= 0 returns 0), unbiased by rejection.
  int64_t UniformInt(int64_t n) {
    if (n <= 1) return 0;
    const uint64_t un = static_cast<uint64_t>(n);
    // 2^64 mod n: values below it are rejected so the rest is a whole number of periods.
    const uint64_t threshold = (0 - un) % un;
    while (true) {
      const uint64_t x = NextU64();
      if (x >= threshold) return static_cast<int64_t>(x % un);
    }
  }

 private:
  uint64_t state_;
};

// A uniformly random permutation of 0..n-1 (Fisher-Yates driven by Rng(seed)).
inline std::vector<int64_t> Permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> perm(n > 0 ? static_cast<std::size_t>(n) : 0);
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  Rng rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = rng.UniformInt(i + 1);
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

}  // namespace mochi::data

#endif  // MOCHI_DATA_RNG_H_
