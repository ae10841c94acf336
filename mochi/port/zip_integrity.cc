#include "mochi/port/zip_integrity.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace mochi {
namespace {

constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfCentralDirectory = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kCentralEntry = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;

uint64_t Le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

class Reader {
 public:
  explicit Reader(std::FILE* file) : file_(file) {
    std::fseek(file_, 0, SEEK_END);
    size_ = static_cast<uint64_t>(std::ftell(file_));
  }
  uint64_t size() const { return size_; }
  // Reads `n` bytes at `offset`; false when they are not all in the file.
  bool Read(uint64_t offset, size_t n, uint8_t* out) {
    if (offset > size_ || n > size_ - offset) return false;
    if (std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0) return false;
    return std::fread(out, 1, n, file_) == n;
  }

 private:
  std::FILE* file_;
  uint64_t size_ = 0;
};

}  // namespace

absl::Status VerifyZipRecords(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (file == nullptr) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  Reader reader(file.get());
  const auto corrupt = [&path](const std::string& what) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt or truncated archive (", what, ")"));
  };

  // The end-of-central-directory record: the last 22 bytes plus a comment of up to 64 KiB.
  const uint64_t tail_size = std::min<uint64_t>(reader.size(), 22 + 65535);
  std::vector<uint8_t> tail(tail_size);
  if (tail_size < 22 || !reader.Read(reader.size() - tail_size, tail_size, tail.data())) {
    return corrupt("shorter than an end-of-directory record");
  }
  int64_t eocd = -1;
  for (int64_t i = static_cast<int64_t>(tail_size) - 22; i >= 0; --i) {
    if (Le(&tail[i], 4) == kEndOfCentralDirectory) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return corrupt("no end-of-directory record");
  uint64_t entries = Le(&tail[eocd + 10], 2);
  uint64_t directory_size = Le(&tail[eocd + 12], 4);
  uint64_t directory_offset = Le(&tail[eocd + 16], 4);
  if (entries == 0xffff || directory_size == 0xffffffff || directory_offset == 0xffffffff) {
    // Zip64: a locator just before the record points at the zip64 end-of-directory record.
    const uint64_t eocd_offset = reader.size() - tail_size + static_cast<uint64_t>(eocd);
    uint8_t locator[20], record[56];
    if (eocd_offset < 20 || !reader.Read(eocd_offset - 20, 20, locator) ||
        Le(locator, 4) != kZip64Locator || !reader.Read(Le(locator + 8, 8), 56, record) ||
        Le(record, 4) != kZip64EndOfCentralDirectory) {
      return corrupt("bad zip64 end-of-directory record");
    }
    entries = Le(record + 32, 8);
    directory_size = Le(record + 40, 8);
    directory_offset = Le(record + 48, 8);
  }
  if (directory_offset > reader.size() || directory_size > reader.size() - directory_offset) {
    return corrupt("the directory lies outside the file");
  }
  // Bounded by the file size: each entry takes at least 46 bytes.
  if (entries > directory_size / 46) return corrupt("more entries than the directory holds");

  std::vector<uint8_t> chunk(1 << 20);
  uint64_t at = directory_offset;
  for (uint64_t e = 0; e < entries; ++e) {
    uint8_t entry[46];
    if (!reader.Read(at, 46, entry) || Le(entry, 4) != kCentralEntry) {
      return corrupt(absl::StrCat("directory entry ", e));
    }
    const uint64_t method = Le(entry + 10, 2);
    const uint32_t crc = static_cast<uint32_t>(Le(entry + 16, 4));
    uint64_t compressed_size = Le(entry + 20, 4);
    uint64_t size = Le(entry + 24, 4);
    uint64_t local = Le(entry + 42, 4);
    const uint64_t name_length = Le(entry + 28, 2);
    const uint64_t extra_length = Le(entry + 30, 2);
    const uint64_t comment_length = Le(entry + 32, 2);
    std::string name(name_length, '\0');
    std::vector<uint8_t> extra(extra_length);
    if (!reader.Read(at + 46, name_length, reinterpret_cast<uint8_t*>(name.data())) ||
        !reader.Read(at + 46 + name_length, extra_length, extra.data())) {
      return corrupt(absl::StrCat("directory entry ", e));
    }
    // Zip64 extended information: 8-byte values for the fields saturated at 0xffffffff, in the
    // order uncompressed size, compressed size, local header offset.
    for (size_t x = 0; x + 4 <= extra.size();) {
      const uint64_t id = Le(&extra[x], 2), length = Le(&extra[x + 2], 2);
      if (id == 0x0001) {
        size_t v = x + 4;
        const auto next = [&](uint64_t& field) {
          if (field == 0xffffffff && v + 8 <= x + 4 + length && v + 8 <= extra.size()) {
            field = Le(&extra[v], 8);
            v += 8;
          }
        };
        next(size);
        next(compressed_size);
        next(local);
      }
      x += 4 + length;
    }
    if (method != 0 && method != 8) {
      return corrupt(absl::StrCat("record ", name, ": compression method ", method));
    }
    uint8_t header[30];
    if (!reader.Read(local, 30, header) || Le(header, 4) != kLocalHeader) {
      return corrupt(absl::StrCat("record ", name, ": bad local header"));
    }
    uint64_t offset = local + 30 + Le(header + 26, 2) + Le(header + 28, 2);
    if (offset > reader.size() || compressed_size > reader.size() - offset) {
      return corrupt(absl::StrCat("record ", name, " runs past the end of the file"));
    }
    uLong actual = crc32(0L, Z_NULL, 0);
    if (method == 0) {
      if (compressed_size != size) return corrupt(absl::StrCat("record ", name, ": sizes differ"));
      for (uint64_t left = size; left > 0;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
        if (!reader.Read(offset, n, chunk.data())) return corrupt(absl::StrCat("record ", name));
        actual = crc32(actual, chunk.data(), static_cast<uInt>(n));
        offset += n;
        left -= n;
      }
    } else {
      // Deflate (LibTorch compresses its code records): inflated chunk by chunk, never past the
      // size the directory declares.
      z_stream stream{};
      if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) return absl::InternalError("inflateInit2");
      std::vector<uint8_t> out(1 << 16);
      uint64_t produced = 0;
      int rc = Z_OK;
      for (uint64_t left = compressed_size; rc != Z_STREAM_END;) {
        if (stream.avail_in == 0) {
          const size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
          if (n == 0 || !reader.Read(offset, n, chunk.data())) break;
          stream.next_in = chunk.data();
          stream.avail_in = static_cast<uInt>(n);
          offset += n;
          left -= n;
        }
        stream.next_out = out.data();
        stream.avail_out = static_cast<uInt>(out.size());
        rc = inflate(&stream, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) break;
        const size_t n = out.size() - stream.avail_out;
        produced += n;
        if (produced > size) break;
        actual = crc32(actual, out.data(), static_cast<uInt>(n));
      }
      inflateEnd(&stream);
      if (rc != Z_STREAM_END || produced != size) {
        return corrupt(absl::StrCat("record ", name, " does not inflate to its size"));
      }
    }
    if (static_cast<uint32_t>(actual) != crc) {
      return absl::DataLossError(
          absl::StrCat(path, ": record ", name, " fails its CRC-32 check (the file is corrupt)"));
    }
    at += 46 + name_length + extra_length + comment_length;
  }
  return absl::OkStatus();
}

}  // namespace mochi
