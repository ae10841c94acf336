#include "mochi/port/json_proto.h"

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "mochi/proto/results.pb.h"
#include "tests/testing/status_matchers.h"

namespace mochi {
namespace {

using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

TEST(JsonProtoTest, FieldNamesAsInTheProtoAndZeroIsWritten) {
  proto::KnnResult knn;
  knn.set_top1(0);  // set: printed, though 0
  knn.set_raw_pixels_top1(0.8125);
  knn.set_k(200);
  EXPECT_EQ(ToJsonLine(knn), R"({"top1":0,"raw_pixels_top1":0.8125,"k":200})");
}

TEST(JsonProtoTest, WritesAndReadsBackAFile) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/transfer.json";
  proto::TransferResult result;
  result.mutable_bbox()->set_ap(0.25);
  result.mutable_voc()->add_per_class()->set_name("cat");
  result.set_test_images(7);
  MOCHI_ASSERT_OK(WriteJsonProto(path, result));
  absl::StatusOr<std::string> text = ReadFileToString(path);
  MOCHI_ASSERT_OK(text);
  EXPECT_THAT(*text, HasSubstr("\"test_images\": 7"));  // indented, original names
  EXPECT_EQ(text->back(), '\n');
  absl::StatusOr<proto::TransferResult> read = ReadJsonProtoFile<proto::TransferResult>(path);
  MOCHI_ASSERT_OK(read);
  EXPECT_EQ(read->SerializeAsString(), result.SerializeAsString());
  EXPECT_FALSE(read->has_segm());
}

TEST(JsonProtoTest, UnknownFieldsWrongTypesAndMissingFilesAreErrors) {
  proto::KnnResult knn;
  EXPECT_THAT(ParseJsonProto(R"({"value": 0.5})", "knn.json", &knn),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("knn.json: not a valid mochi.proto.KnnResult")));
  EXPECT_THAT(ParseJsonProto(R"({"top1": "high"})", "knn.json", &knn),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseJsonProto("{oops", "knn.json", &knn),
              StatusIs(absl::StatusCode::kInvalidArgument));
  MOCHI_EXPECT_OK(ParseJsonProto(R"({"top1": 0.5, "k": 3})", "knn.json", &knn));
  EXPECT_EQ(knn.k(), 3);
  EXPECT_THAT(ReadJsonProtoFile("/nonexistent/knn.json", &knn),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/knn.json")));
}

}  // namespace
}  // namespace mochi
