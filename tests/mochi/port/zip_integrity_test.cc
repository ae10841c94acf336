#include "mochi/port/zip_integrity.h"

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "torch/torch.h"

namespace mochi {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

void Put(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

// A one-record stored zip, written by hand: plain, or with every size and offset in zip64 form
// (0xffffffff in the directory entry, the values in its zip64 extra field, and the zip64
// end-of-directory record and locator), as archives over 4 GiB have them.
std::string HandMadeZip(const std::string& name, const std::string& data, bool zip64) {
  const uint32_t crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()),
                             static_cast<uInt>(data.size()));
  std::string zip;
  Put(zip, 0x04034b50, 4);
  Put(zip, 20, 2);  // version needed
  Put(zip, 0, 2);   // flags
  Put(zip, 0, 2);   // stored
  Put(zip, 0, 4);   // time, date
  Put(zip, crc, 4);
  Put(zip, data.size(), 4);
  Put(zip, data.size(), 4);
  Put(zip, name.size(), 2);
  Put(zip, 0, 2);
  zip += name + data;
  const uint64_t directory_offset = zip.size();
  Put(zip, 0x02014b50, 4);
  Put(zip, 45, 2);
  Put(zip, 45, 2);
  Put(zip, 0, 2);
  Put(zip, 0, 2);
  Put(zip, 0, 4);
  Put(zip, crc, 4);
  Put(zip, zip64 ? 0xffffffff : data.size(), 4);
  Put(zip, zip64 ? 0xffffffff : data.size(), 4);
  Put(zip, name.size(), 2);
  Put(zip, zip64 ? 28 : 0, 2);  // extra length
  Put(zip, 0, 2);               // comment
  Put(zip, 0, 2);               // disk
  Put(zip, 0, 2);
  Put(zip, 0, 4);
  Put(zip, zip64 ? 0xffffffff : 0, 4);  // local header offset
  zip += name;
  if (zip64) {
    Put(zip, 0x0001, 2);
    Put(zip, 24, 2);
    Put(zip, data.size(), 8);  // uncompressed
    Put(zip, data.size(), 8);  // compressed
    Put(zip, 0, 8);            // local header offset
  }
  const uint64_t directory_size = zip.size() - directory_offset;
  if (zip64) {
    const uint64_t record = zip.size();
    Put(zip, 0x06064b50, 4);
    Put(zip, 44, 8);
    Put(zip, 45, 2);
    Put(zip, 45, 2);
    Put(zip, 0, 4);
    Put(zip, 0, 4);
    Put(zip, 1, 8);
    Put(zip, 1, 8);
    Put(zip, directory_size, 8);
    Put(zip, directory_offset, 8);
    Put(zip, 0x07064b50, 4);
    Put(zip, 0, 4);
    Put(zip, record, 8);
    Put(zip, 1, 4);
  }
  Put(zip, 0x06054b50, 4);
  Put(zip, 0, 4);
  Put(zip, zip64 ? 0xffff : 1, 2);
  Put(zip, zip64 ? 0xffff : 1, 2);
  Put(zip, zip64 ? 0xffffffff : directory_size, 4);
  Put(zip, zip64 ? 0xffffffff : directory_offset, 4);
  Put(zip, 0, 2);
  return zip;
}

TEST(ZipIntegrityTest, AcceptsLibTorchArchivesAndRejectsAFlippedBit) {
  const std::string path = TempPath("archive.pt");
  torch::serialize::OutputArchive archive;
  archive.write("weights", torch::arange(1000, torch::kFloat));
  archive.save_to(path);
  EXPECT_THAT(VerifyZipRecords(path), IsOk());

  // Flip one bit of the tensor's bytes (the float 500.0 is somewhere in the data record).
  std::string bytes = ReadBytes(path);
  const float value = 500.0f;
  const size_t at = bytes.find(std::string(reinterpret_cast<const char*>(&value), 4));
  ASSERT_NE(at, std::string::npos);
  bytes[at] ^= 1;
  WriteBytes(path, bytes);
  EXPECT_THAT(VerifyZipRecords(path),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("fails its CRC-32 check")));
}

TEST(ZipIntegrityTest, PlainAndZip64Directories) {
  for (bool zip64 : {false, true}) {
    const std::string path = TempPath(zip64 ? "zip64.zip" : "plain.zip");
    std::string zip = HandMadeZip("a/data", "some record bytes", zip64);
    WriteBytes(path, zip);
    EXPECT_THAT(VerifyZipRecords(path), IsOk()) << "zip64 " << zip64;
    zip[30 + 6 + 3] ^= 0x20;  // a byte of the record's data
    WriteBytes(path, zip);
    EXPECT_THAT(VerifyZipRecords(path),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("a/data fails its CRC-32")))
        << "zip64 " << zip64;
  }
}

TEST(ZipIntegrityTest, TruncatedOrNotAZip) {
  const std::string path = TempPath("broken.zip");
  const std::string zip = HandMadeZip("a/data", "some record bytes", false);
  WriteBytes(path, zip.substr(0, zip.size() - 5));
  EXPECT_THAT(VerifyZipRecords(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
  WriteBytes(path, zip.substr(0, 40));
  EXPECT_THAT(VerifyZipRecords(path), StatusIs(absl::StatusCode::kDataLoss));
  WriteBytes(path, "not a zip at all, but long enough to hold an end record");
  EXPECT_THAT(VerifyZipRecords(path),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("no end-of-directory record")));
  EXPECT_THAT(VerifyZipRecords(TempPath("missing.zip")), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace mochi
