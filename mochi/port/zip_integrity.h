// The CRC-32 of every record of a zip archive, checked against the archive's own directory.
//
// LibTorch's checkpoints (torch::serialize archives) are zip files (tensor data stored, code
// records deflated) whose writer records each record's CRC-32, but its reader does not check
// them: a flipped bit in a weight would load as a silently different model. VerifyZipRecords
// reads the central directory (zip64 included) and streams every record (inflating deflated
// ones) through zlib's crc32 in fixed-size chunks, so sizes from a corrupt header never decide
// an allocation.
//
// Example:
//   MOCHI_RETURN_IF_ERROR(VerifyZipRecords(path));  // DataLoss names the file and the record
#ifndef MOCHI_PORT_ZIP_INTEGRITY_H_
#define MOCHI_PORT_ZIP_INTEGRITY_H_

#include <string>

#include "absl/status/status.h"

namespace mochi {

// OK when every record's bytes match its directory CRC-32. DataLoss for a truncated or corrupt
// archive, a record that fails its CRC or does not inflate to its size, or a compression method
// other than stored and deflate; NotFound when the file cannot be opened.
absl::Status VerifyZipRecords(const std::string& path);

}  // namespace mochi

#endif  // MOCHI_PORT_ZIP_INTEGRITY_H_
