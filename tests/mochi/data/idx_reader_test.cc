#include "mochi/data/idx_reader.h"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/gzip_files.h"
#include "tests/testing/status_matchers.h"

namespace mochi::data {
namespace {

using ::mochi::testing::StatusIs;
using ::mochi::testing::WriteGzip;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

void WriteRaw(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

// Header for an unsigned-byte IDX file with `dims`, big-endian.
std::string IdxHeader(const std::vector<int32_t>& dims, uint8_t type = 0x08) {
  std::string header = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (int32_t dim : dims) {
    const uint32_t u = static_cast<uint32_t>(dim);
    header += static_cast<char>(u >> 24);
    header += static_cast<char>(u >> 16);
    header += static_cast<char>(u >> 8);
    header += static_cast<char>(u);
  }
  return header;
}

std::string Payload(size_t size) {
  std::string payload(size, '\0');
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>((i * 7 + 3) % 256);
  return payload;
}

TEST(Md5HexTest, KnownDigests) {
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(ReadGzipIdxTest, ThreeDimensionalFileRoundTrips) {
  const std::string path = TempPath("good3d.idx.gz");
  // 300 = 0x012C checks big-endian decoding beyond one byte.
  const std::string bytes = IdxHeader({2, 3, 300}) + Payload(2 * 3 * 300);
  WriteGzip(path, bytes);

  absl::StatusOr<IdxArray> array = ReadGzipIdx(path);
  MOCHI_ASSERT_OK(array);
  EXPECT_THAT(array->dims, ElementsAre(2, 3, 300));
  const std::string payload = Payload(2 * 3 * 300);
  EXPECT_EQ(std::string(array->data.begin(), array->data.end()), payload);
  EXPECT_EQ(array->md5_hex, Md5Hex(bytes));
  EXPECT_NE(array->md5_hex, Md5Hex(payload));  // The digest covers the header too.
}

TEST(ReadGzipIdxTest, OneDimensionalFile) {
  const std::string path = TempPath("good1d.idx.gz");
  WriteGzip(path, IdxHeader({5}) + std::string("\x09\x00\x01\x02\x03", 5));
  absl::StatusOr<IdxArray> array = ReadGzipIdx(path);
  MOCHI_ASSERT_OK(array);
  EXPECT_THAT(array->dims, ElementsAre(5));
  EXPECT_THAT(array->data, ElementsAre(9, 0, 1, 2, 3));
}

TEST(ReadGzipIdxTest, BadMagicIsDataLoss) {
  const std::string path = TempPath("bad_magic.idx.gz");
  std::string bytes = IdxHeader({4}) + Payload(4);
  bytes[0] = 0x1F;
  WriteGzip(path, bytes);
  EXPECT_THAT(ReadGzipIdx(path),
              StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr(path), HasSubstr("magic"))));
}

TEST(ReadGzipIdxTest, TooManyDimensionsIsDataLoss) {
  const std::string path = TempPath("five_dims.idx.gz");
  WriteGzip(path, IdxHeader({1, 1, 1, 1, 1}) + Payload(1));
  EXPECT_THAT(ReadGzipIdx(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
}

TEST(ReadGzipIdxTest, NonPositiveDimensionIsDataLoss) {
  const std::string path = TempPath("zero_dim.idx.gz");
  WriteGzip(path, IdxHeader({3, 0}));
  EXPECT_THAT(ReadGzipIdx(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
}

TEST(ReadGzipIdxTest, OtherIdxElementTypeIsUnsupported) {
  const std::string path = TempPath("float.idx.gz");
  WriteGzip(path, IdxHeader({2}, /*type=*/0x0D) + Payload(8));
  EXPECT_THAT(ReadGzipIdx(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                          AllOf(HasSubstr(path), HasSubstr("0x0d"))));
}

TEST(ReadGzipIdxTest, UnknownTypeByteIsDataLoss) {
  const std::string path = TempPath("unknown_type.idx.gz");
  WriteGzip(path, IdxHeader({2}, /*type=*/0x42) + Payload(2));
  EXPECT_THAT(ReadGzipIdx(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
}

TEST(ReadGzipIdxTest, TruncatedPayloadIsDataLoss) {
  const std::string path = TempPath("truncated.idx.gz");
  WriteGzip(path, IdxHeader({10, 10}) + Payload(99));
  EXPECT_THAT(ReadGzipIdx(path), StatusIs(absl::StatusCode::kDataLoss,
                                          AllOf(HasSubstr(path), HasSubstr("truncated"))));
}

TEST(ReadGzipIdxTest, TruncatedHeaderIsDataLoss) {
  const std::string path = TempPath("short_header.idx.gz");
  WriteGzip(path, IdxHeader({10, 10}).substr(0, 6));
  EXPECT_THAT(ReadGzipIdx(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
}

TEST(ReadGzipIdxTest, TrailingBytesAreDataLoss) {
  const std::string path = TempPath("trailing.idx.gz");
  WriteGzip(path, IdxHeader({10, 10}) + Payload(101));
  EXPECT_THAT(ReadGzipIdx(path),
              StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr(path), HasSubstr("trailing"))));
}

TEST(ReadGzipIdxTest, CutGzipStreamIsDataLoss) {
  // A valid gzip file cut in half: the deflate stream ends early.
  const std::string full_path = TempPath("full.idx.gz");
  WriteGzip(full_path, IdxHeader({64, 64}) + Payload(64 * 64));
  std::ifstream in(full_path, std::ios::binary);
  const std::string compressed((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
  ASSERT_GT(compressed.size(), 40u);
  const std::string path = TempPath("cut.idx.gz");
  WriteRaw(path, compressed.substr(0, compressed.size() / 2));
  EXPECT_THAT(ReadGzipIdx(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
}

TEST(ReadGzipIdxTest, CorruptDeflateDataIsDataLoss) {
  const std::string good_path = TempPath("to_corrupt.idx.gz");
  WriteGzip(good_path, IdxHeader({64, 64}) + Payload(64 * 64));
  std::ifstream in(good_path, std::ios::binary);
  std::string compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Past the 10-byte gzip header, overwrite the deflate stream with bytes it cannot contain
  // (0xFF starts a block of reserved type 3).
  ASSERT_GT(compressed.size(), 30u);
  for (size_t i = 10; i < 20; ++i) compressed[i] = '\xFF';
  const std::string path = TempPath("corrupt.idx.gz");
  WriteRaw(path, compressed);
  EXPECT_THAT(ReadGzipIdx(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
}

TEST(ReadGzipIdxTest, NotGzipIsDataLoss) {
  const std::string path = TempPath("garbage.idx.gz");
  // An uncompressed but otherwise valid IDX file: gzread would pass it through unchanged.
  WriteRaw(path, IdxHeader({4}) + Payload(4));
  EXPECT_THAT(ReadGzipIdx(path),
              StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr(path), HasSubstr("gzip"))));
  const std::string text_path = TempPath("garbage.txt.gz");
  WriteRaw(text_path, "this is not a gzip file at all\n");
  EXPECT_THAT(ReadGzipIdx(text_path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(text_path)));
}

TEST(ReadGzipIdxTest, MissingFileIsNotFoundWithSetupHint) {
  const std::string path = TempPath("does_not_exist.idx.gz");
  EXPECT_THAT(ReadGzipIdx(path), StatusIs(absl::StatusCode::kNotFound,
                                          AllOf(HasSubstr(path), HasSubstr("bash tools/setup.sh"),
                                                HasSubstr("dataset-fashion-mnist"))));
}

}  // namespace
}  // namespace mochi::data
