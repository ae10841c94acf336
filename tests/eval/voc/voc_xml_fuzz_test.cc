// Mutation fuzzing of the VOC annotation reader (tests/testing:mutation_fuzz): every mutated XML
// must parse or fail with a clear error, and a parsed box must have integer corners as read.
#include <string>

#include "eval/voc/voc_annotation.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "tests/testing/mutation_fuzz.h"

namespace mochi::eval::voc {
namespace {

// The file's text; empty (and the test failed) when it cannot be read.
std::string Read(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

TEST(VocXmlFuzzTest, MutatedAnnotations) {
  const std::string root = "tests/eval/testdata/eval_golden/";
  const std::vector<std::string> seeds = {Read(root + "voc_f1_boxes_ties/Annotations/000001.xml"),
                                          Read(root + "voc_f1_boxes_ties/Annotations/000002.xml"),
                                          Read(root + "voc_f3_maxdets/Annotations/000001.xml")};
  for (const std::string& seed : seeds) ASSERT_FALSE(seed.empty());
  const std::vector<std::string> dictionary = {"<object>",
                                               "</object>",
                                               "<name>",
                                               "</name>",
                                               "<bndbox>",
                                               "</bndbox>",
                                               "<xmin>",
                                               "</xmin>",
                                               "<ymax>",
                                               "</ymax>",
                                               "<difficult>1</difficult>",
                                               "<difficult>",
                                               "<!--",
                                               "-->",
                                               "<![CDATA[",
                                               "]]>",
                                               "&amp;",
                                               "&lt;",
                                               "&#65;",
                                               "&#x110000;",
                                               "&bogus;",
                                               "<?xml version=\"1.0\"?>",
                                               "<!DOCTYPE x>",
                                               "-1",
                                               "99999999999999999999",
                                               "1e9",
                                               "nan",
                                               " a=\"1\"",
                                               "/>",
                                               "<a>",
                                               "</a>"};
  const testing::FuzzReport report = testing::FuzzParser(
      seeds, dictionary, 10000,
      [](const std::string& xml) { return ParseVocAnnotation(xml, "fuzz.xml").status(); });
  EXPECT_EQ(report.failures, 0) << report.first_failure;
  EXPECT_GT(report.rejected, 1000);
  EXPECT_GT(report.accepted, 100);  // at least 1% get past the syntax to the fields' checks
}

}  // namespace
}  // namespace mochi::eval::voc
