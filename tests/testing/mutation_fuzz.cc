#include "tests/testing/mutation_fuzz.h"

#include <chrono>
#include <cstdio>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace mochi::testing {
namespace {

constexpr uint8_t kInterestingBytes[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '"', '{', '}', '[',  ']',
                                         '<',  '>',  '/',  ':',  ',',  '-', '9', ' ', '\\', '.'};
constexpr uint32_t kInterestingInt32[] = {
    0, 1, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000000, 60000, 28};

}  // namespace

void Mutator::MutateOnce(std::string& data) {
  switch (Below(8)) {
    case 0:  // flip a bit
      if (!data.empty()) data[Below(data.size())] ^= static_cast<char>(1u << Below(8));
      break;
    case 1:  // an interesting byte
      if (!data.empty()) {
        data[Below(data.size())] =
            static_cast<char>(kInterestingBytes[Below(sizeof(kInterestingBytes))]);
      }
      break;
    case 2:  // an interesting big-endian int32 (idx dimensions, lengths)
      if (data.size() >= 4) {
        const uint32_t v = kInterestingInt32[Below(sizeof(kInterestingInt32) / 4)];
        const size_t at = Below(data.size() - 3);
        for (int b = 0; b < 4; ++b) data[at + b] = static_cast<char>(v >> (24 - 8 * b));
      }
      break;
    case 3: {  // delete a range
      const size_t at = Below(data.size() + 1);
      data.erase(at, 1 + Below(std::min<size_t>(64, data.size() - at + 1)));
      break;
    }
    case 4: {  // duplicate a range elsewhere
      if (data.empty()) break;
      const size_t from = Below(data.size());
      const std::string chunk =
          data.substr(from, 1 + Below(std::min<size_t>(128, data.size() - from)));
      data.insert(Below(data.size() + 1), chunk);
      break;
    }
    case 5:  // truncate
      data.resize(Below(data.size() + 1));
      break;
    case 6:  // insert a dictionary token
    case 7:  // (twice as likely: tokens reach the structure, not just the bytes)
      if (!dictionary_.empty())
        data.insert(Below(data.size() + 1), dictionary_[Below(dictionary_.size())]);
      break;
  }
}

std::string Mutator::Mutate(const std::string& input) {
  std::string data = input;
  const size_t count = 1 + Below(4);
  for (size_t i = 0; i < count; ++i) MutateOnce(data);
  return data;
}

std::string JsonMutator::Mutate(const std::string& input) {
  nlohmann::json document = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return bytes_.Mutate(input);
  static const nlohmann::json kValues[] = {
      nullptr,
      -1,
      0,
      1,
      0.5,
      1e308,
      -1e308,
      1e20,
      4294967296LL,
      2147483648LL,
      -2147483649LL,
      "",
      "x",
      "~~~~",
      nlohmann::json::array(),
      nlohmann::json::object(),
      true,
      nlohmann::json::array({1, 2}),
      nlohmann::json::array({nlohmann::json::array({0, 0, 1})})};
  const size_t count = 1 + Below(3);
  for (size_t m = 0; m < count; ++m) {
    std::vector<nlohmann::json*> nodes;
    std::vector<nlohmann::json*> stack = {&document};
    while (!stack.empty()) {
      nlohmann::json* node = stack.back();
      stack.pop_back();
      nodes.push_back(node);
      if (node->is_structured()) {
        for (auto& child : *node) stack.push_back(&child);
      }
    }
    nlohmann::json& node = *nodes[Below(nodes.size())];
    const size_t what = Below(4);
    if (what == 1 && node.is_array() && !node.empty()) {
      node.push_back(nlohmann::json(node[Below(node.size())]));
    } else if (what == 2 && node.is_array() && !node.empty()) {
      node.erase(Below(node.size()));
    } else if (what == 3 && node.is_object() && !node.empty()) {
      auto it = node.begin();
      std::advance(it, Below(node.size()));
      node.erase(it);
    } else {
      node = kValues[Below(sizeof(kValues) / sizeof(kValues[0]))];
    }
  }
  return document.dump();
}

FuzzReport FuzzParser(const std::vector<std::string>& seeds,
                      const std::vector<std::string>& dictionary, int iterations,
                      const ParseFn& parse, uint64_t seed) {
  Mutator mutator(seed, dictionary);
  return FuzzParser(
      seeds, iterations, [&](const std::string& input) { return mutator.Mutate(input); }, parse);
}

FuzzReport FuzzParser(const std::vector<std::string>& seeds, int iterations, const MutateFn& mutate,
                      const ParseFn& parse) {
  FuzzReport report;
  for (int i = 0; i < iterations && !seeds.empty(); ++i) {
    const std::string input = mutate(seeds[i % seeds.size()]);
    const auto start = std::chrono::steady_clock::now();
    const absl::Status status = parse(input);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.slowest_seconds = std::max(report.slowest_seconds, seconds);
    ++report.inputs;
    std::string failure;
    if (status.ok()) {
      ++report.accepted;
    } else if (status.message().empty()) {
      failure = "an error without a message";
    } else {
      ++report.rejected;
    }
    if (seconds > 1.0) failure = absl::StrCat("took ", seconds, " s");
    if (!failure.empty()) {
      if (report.failures++ == 0) {
        report.first_failure = absl::StrCat("input ", i, " (", input.size(), " bytes): ", failure);
      }
    }
  }
  std::printf(
      "fuzz: %d inputs, %d accepted, %d rejected with a message, %d failures; slowest %.3f s\n",
      report.inputs, report.accepted, report.rejected, report.failures, report.slowest_seconds);
  return report;
}

}  // namespace mochi::testing
