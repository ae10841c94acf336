// Reader for gzip-compressed IDX files (the MNIST / Fashion-MNIST container format).
//
// An IDX file is a big-endian header followed by a dense row-major payload:
//   bytes 0-1  zero
//   byte  2    element type (0x08 = unsigned byte, the only type this reader supports)
//   byte  3    number of dimensions (1..4 here)
//   then one big-endian int32 per dimension, then prod(dims) elements.
// The file on disk is gzip-compressed (as Debian's dataset-fashion-mnist ships it).
#ifndef MOCHI_DATA_IDX_READER_H_
#define MOCHI_DATA_IDX_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mochi::data {

// IdxArray is one decoded unsigned-byte IDX file.
struct IdxArray {
  std::vector<int32_t> dims;  // e.g. {60000, 28, 28}
  std::vector<uint8_t> data;  // prod(dims) bytes, row-major
  // MD5 of the decompressed file (header included): the digest the known Fashion-MNIST
  // checksums are over, since Debian re-compressed the .gz files.
  std::string md5_hex;
};

// ReadGzipIdx decompresses and parses the IDX file at `path`.
//
// Errors (every message names `path`):
//   NotFound         the file does not exist (the message says how to install Fashion-MNIST);
//   DataLoss         not gzip, corrupt or truncated gzip, bad magic, dimension count outside
//                    1..4, a dimension <= 0, payload shorter or longer than prod(dims);
//   InvalidArgument  a valid IDX element type other than unsigned byte (0x09, 0x0B..0x0E).
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(IdxArray labels, ReadGzipIdx(root + "/t10k-labels-idx1-ubyte.gz"));
//   // labels.dims == {10000}
absl::StatusOr<IdxArray> ReadGzipIdx(const std::string& path);

// Md5Hex returns the lowercase hex MD5 digest of `bytes`, e.g. Md5Hex("abc") ==
// "900150983cd24fb0d6963f7d28e17f72".
std::string Md5Hex(absl::string_view bytes);

}  // namespace mochi::data

#endif  // MOCHI_DATA_IDX_READER_H_
