#include "mochi/data/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "openssl/evp.h"

namespace mochi::data {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
constexpr int kMaxDims = 4;
// gzread takes an unsigned length; read in bounded chunks so a corrupt header that claims a
// huge payload fails at end-of-stream instead of allocating it up front.
constexpr size_t kReadChunk = size_t{16} << 20;

struct GzFileCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFilePtr = std::unique_ptr<gzFile_s, GzFileCloser>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string ToHex(const unsigned char* digest, unsigned int length) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string hex(2 * length, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHexDigits[digest[i] >> 4];
    hex[2 * i + 1] = kHexDigits[digest[i] & 0xF];
  }
  return hex;
}

// Reads up to `length` bytes; fewer only at end of stream. A zlib error (corrupt data, or
// Z_BUF_ERROR for a gzip stream cut short, which gzread itself does not report) is DataLoss.
absl::StatusOr<size_t> ReadFully(gzFile file, const std::string& path, uint8_t* buffer,
                                 size_t length) {
  size_t total = 0;
  while (total < length) {
    const unsigned chunk = static_cast<unsigned>(std::min(length - total, kReadChunk));
    const int got = gzread(file, buffer + total, chunk);
    if (got < 0) break;
    total += static_cast<size_t>(got);
    if (got == 0) break;
  }
  int zlib_error = Z_OK;
  const char* message = gzerror(file, &zlib_error);
  if (zlib_error == Z_ERRNO) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": read failed"));
  }
  if (zlib_error != Z_OK) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt gzip stream (zlib: ", message, ")"));
  }
  return total;
}

uint32_t BigEndian32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

bool IsOtherIdxType(uint8_t type) {
  // IDX element types: 0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float, 0x0E double.
  return type == 0x09 || (type >= 0x0B && type <= 0x0E);
}

}  // namespace

std::string Md5Hex(absl::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_md5(), nullptr);
  return ToHex(digest, length);
}

absl::StatusOr<IdxArray> ReadGzipIdx(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(
        absl::StrCat(path,
                     ": no such file. The Fashion-MNIST files come from the apt package "
                     "dataset-fashion-mnist; install it with `bash tools/setup.sh`"));
  }
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not an IDX file"));
  }
  GzFilePtr file(gzopen(path.c_str(), "rb"));
  if (file == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot open"));
  }
  gzbuffer(file.get(), 1 << 18);
  // gzread passes non-gzip input through unchanged; the files are always gzip-compressed.
  if (gzdirect(file.get()) == 1) {
    return absl::DataLossError(absl::StrCat(path, ": not a gzip file"));
  }

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md5(EVP_MD_CTX_new());
  if (md5 == nullptr || EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr) != 1) {
    return absl::InternalError(absl::StrCat(path, ": cannot initialise MD5"));
  }

  uint8_t magic[4];
  size_t got;
  {
    auto read = ReadFully(file.get(), path, magic, sizeof(magic));
    if (!read.ok()) return read.status();
    got = *read;
  }
  if (got < sizeof(magic)) {
    return absl::DataLossError(
        absl::StrCat(path, ": IDX header truncated (", got, " of 4 magic bytes)"));
  }
  const int num_dims = magic[3];
  if (magic[0] != 0 || magic[1] != 0 || num_dims < 1 || num_dims > kMaxDims) {
    return absl::DataLossError(absl::StrCat(path, ": bad IDX magic 0x", ToHex(magic, 4),
                                            " (expected 0x0000, a type byte, then 1..", kMaxDims,
                                            " as the dimension count)"));
  }
  if (magic[2] != kUnsignedByteType) {
    if (IsOtherIdxType(magic[2])) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": IDX element type 0x", ToHex(&magic[2], 1),
                       " is not supported (only 0x08, unsigned byte)"));
    }
    return absl::DataLossError(
        absl::StrCat(path, ": bad IDX magic, unknown element type 0x", ToHex(&magic[2], 1)));
  }

  std::vector<uint8_t> dim_bytes(4 * num_dims);
  {
    auto read = ReadFully(file.get(), path, dim_bytes.data(), dim_bytes.size());
    if (!read.ok()) return read.status();
    got = *read;
  }
  if (got < dim_bytes.size()) {
    return absl::DataLossError(absl::StrCat(path, ": IDX header truncated (", got, " of ",
                                            dim_bytes.size(), " dimension bytes)"));
  }
  IdxArray array;
  uint64_t payload_size = 1;
  for (int d = 0; d < num_dims; ++d) {
    const int32_t dim = static_cast<int32_t>(BigEndian32(&dim_bytes[4 * d]));
    if (dim <= 0) {
      return absl::DataLossError(
          absl::StrCat(path, ": IDX dimension ", d, " is ", dim, " (must be > 0)"));
    }
    array.dims.push_back(dim);
    payload_size *= static_cast<uint64_t>(dim);
    if (payload_size > (uint64_t{1} << 40)) {  // No real IDX file is a terabyte.
      return absl::DataLossError(absl::StrCat(path, ": IDX dimensions ",
                                              absl::StrJoin(array.dims, "x"), "... are absurd"));
    }
  }

  // Grow as data arrives rather than trusting the header for one big allocation.
  array.data.reserve(std::min<uint64_t>(payload_size, kReadChunk));
  uint64_t have = 0;
  while (have < payload_size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(payload_size - have, kReadChunk));
    array.data.resize(have + want);
    auto read = ReadFully(file.get(), path, array.data.data() + have, want);
    if (!read.ok()) return read.status();
    have += *read;
    if (*read < want) break;
  }
  if (have < payload_size) {
    return absl::DataLossError(absl::StrCat(path, ": IDX payload truncated: dims ",
                                            absl::StrJoin(array.dims, "x"), " need ", payload_size,
                                            " bytes, file has ", have));
  }
  uint8_t extra;
  {
    auto read = ReadFully(file.get(), path, &extra, 1);
    if (!read.ok()) return read.status();
    if (*read != 0) {
      return absl::DataLossError(absl::StrCat(path, ": trailing bytes after the ", payload_size,
                                              "-byte IDX payload of dims ",
                                              absl::StrJoin(array.dims, "x")));
    }
  }

  EVP_DigestUpdate(md5.get(), magic, sizeof(magic));
  EVP_DigestUpdate(md5.get(), dim_bytes.data(), dim_bytes.size());
  EVP_DigestUpdate(md5.get(), array.data.data(), array.data.size());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  EVP_DigestFinal_ex(md5.get(), digest, &digest_length);
  array.md5_hex = ToHex(digest, digest_length);
  return array;
}

}  // namespace mochi::data
