// Shared fixtures of tests that need a pretraining run on disk.
#ifndef TESTS_TESTING_TINY_RUN_H_
#define TESTS_TESTING_TINY_RUN_H_

#include <string>

namespace mochi::testing {

// $TEST_TMPDIR/<name>, removed first so each test starts from nothing.
std::string TestTempDir(const std::string& name);

// A 4-step MoCo-v2 run (RunPretrain) of a width-4 ResNet-18 with a 16-d head on 512
// Fashion-MNIST images, written once per test binary; its directory.
const std::string& TinyMocoRun();

}  // namespace mochi::testing

#endif  // TESTS_TESTING_TINY_RUN_H_
