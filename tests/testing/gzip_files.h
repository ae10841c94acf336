// Writing gzip files in tests (corrupted copies of the Fashion-MNIST package, synthetic idx).
#ifndef TESTS_TESTING_GZIP_FILES_H_
#define TESTS_TESTING_GZIP_FILES_H_

#include <zlib.h>

#include <string>

#include "gtest/gtest.h"

namespace mochi::testing {

// Gzip-compresses `bytes` into `path`; fails the calling test on any zlib error.
inline void WriteGzip(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

}  // namespace mochi::testing

#endif  // TESTS_TESTING_GZIP_FILES_H_
