// Mutation fuzzing of the idx reader (tests/testing:mutation_fuzz): mutated idx content, gzipped,
// and mutated gzip bytes. Every input must parse or fail with a clear error, and a parsed array
// must hold exactly prod(dims) bytes.
#include <cstdint>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "mochi/data/idx_reader.h"
#include "tests/testing/gzip_files.h"
#include "tests/testing/mutation_fuzz.h"

namespace mochi::data {
namespace {

std::string Idx(std::initializer_list<int32_t> dims) {
  std::string bytes = {0, 0, 0x08, static_cast<char>(dims.size())};
  int64_t count = 1;
  for (int32_t d : dims) {
    for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<char>(d >> (24 - 8 * b)));
    count *= d;
  }
  for (int64_t i = 0; i < count; ++i) bytes.push_back(static_cast<char>(i * 37 % 251));
  return bytes;
}

std::string TempPath() { return std::string(std::getenv("TEST_TMPDIR")) + "/fuzz.gz"; }

absl::Status ReadAndCheck(const std::string& path) {
  absl::StatusOr<IdxArray> array = ReadGzipIdx(path);
  if (!array.ok()) return array.status();
  int64_t count = 1;
  for (int32_t d : array->dims) count *= d;
  if (static_cast<int64_t>(array->data.size()) != count) {
    ADD_FAILURE() << "accepted an array of " << array->data.size() << " bytes for dims of "
                  << count << " elements";
  }
  return absl::OkStatus();
}

const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> seeds = {Idx({3, 28, 28}), Idx({10}), Idx({2, 3, 4, 5})};
  return seeds;
}

TEST(IdxFuzzTest, MutatedContent) {
  const testing::FuzzReport report =
      testing::FuzzParser(Seeds(), {std::string(4, '\0'), std::string("\x7f\xff\xff\xff", 4)},
                          3000, [](const std::string& content) {
                            testing::WriteGzip(TempPath(), content);
                            return ReadAndCheck(TempPath());
                          });
  EXPECT_EQ(report.failures, 0) << report.first_failure;
  EXPECT_GT(report.rejected, 1000);
}

TEST(IdxFuzzTest, MutatedGzipBytes) {
  std::vector<std::string> gzipped;
  for (const std::string& content : Seeds()) {
    testing::WriteGzip(TempPath(), content);
    std::ifstream in(TempPath(), std::ios::binary);
    gzipped.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const testing::FuzzReport report =
      testing::FuzzParser(gzipped, {}, 3000, [](const std::string& bytes) {
        std::ofstream(TempPath(), std::ios::binary | std::ios::trunc) << bytes;
        return ReadAndCheck(TempPath());
      });
  EXPECT_EQ(report.failures, 0) << report.first_failure;
  EXPECT_GT(report.rejected, 1000);
}

}  // namespace
}  // namespace mochi::data
