#include "eval/voc/voc_annotation.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::voc {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::HasSubstr;

TEST(VocAnnotationTest, ReadsGoldenFixture) {
  absl::StatusOr<VocAnnotation> annotation =
      LoadVocAnnotation("tests/eval/testdata/eval_golden/voc_f1_boxes_ties/Annotations/000002.xml");
  ASSERT_THAT(annotation, IsOk());
  ASSERT_EQ(annotation->objects.size(), 2u);
  const VocObject& second = annotation->objects[1];
  EXPECT_EQ(second.name, "c2");
  EXPECT_FALSE(second.difficult);
  EXPECT_EQ(second.xmin, 61);  // 1-based, as written
  EXPECT_EQ(second.ymin, 11);
  EXPECT_EQ(second.xmax, 90);
  EXPECT_EQ(second.ymax, 60);
}

TEST(VocAnnotationTest, DifficultDefaultsToZeroAndNamesAreTrimmed) {
  absl::StatusOr<VocAnnotation> annotation = ParseVocAnnotation(R"xml(<annotation>
    <size><width>10</width></size>
    <object><name>
      dog
    </name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax> 3 </xmax><ymax>4</ymax></bndbox></object>
    <object><name>cat</name><difficult>1</difficult>
      <bndbox><xmin>5</xmin><ymin>6</ymin><xmax>7</xmax><ymax>8</ymax></bndbox></object>
  </annotation>)xml",
                                                                "a.xml");
  ASSERT_THAT(annotation, IsOk());
  ASSERT_EQ(annotation->objects.size(), 2u);
  EXPECT_EQ(annotation->objects[0].name, "dog");
  EXPECT_FALSE(annotation->objects[0].difficult);
  EXPECT_EQ(annotation->objects[0].xmax, 3);
  EXPECT_TRUE(annotation->objects[1].difficult);
  EXPECT_EQ(annotation->objects[1].ymax, 8);
}

TEST(VocAnnotationTest, RejectsMalformedAnnotations) {
  EXPECT_THAT(ParseVocAnnotation("<root/>", "a.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected <annotation>")));
  EXPECT_THAT(
      ParseVocAnnotation("<annotation>\n<object><name>x</name></object></annotation>", "a.xml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a.xml:2: <object> has no <bndbox>")));
  EXPECT_THAT(
      ParseVocAnnotation("<annotation><object><name>x</name><bndbox><xmin>1.5</xmin><ymin>1</ymin>"
                         "<xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>",
                         "a.xml"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("<xmin> must be an integer, got '1.5'")));
  EXPECT_THAT(
      ParseVocAnnotation("<annotation><object><name>x</name><name>y</name></object></annotation>",
                         "a.xml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than one <name>")));
  EXPECT_THAT(
      ParseVocAnnotation("<annotation><object><name> </name></object></annotation>", "a.xml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty <name>")));
  EXPECT_THAT(ParseVocAnnotation("<annotation><object>", "a.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a.xml:1:")));
  EXPECT_THAT(LoadVocAnnotation("/nonexistent/000001.xml"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/000001.xml")));
}

}  // namespace
}  // namespace mochi::eval::voc
