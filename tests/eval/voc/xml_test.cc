#include "eval/voc/xml.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mochi::eval::voc {
namespace {

using ::mochi::testing::IsOk;
using ::mochi::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(XmlTest, ParsesElementsTextAndAttributes) {
  absl::StatusOr<XmlElement> root = ParseXml(
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<!-- a VOC-like file -->\n"
      "<annotation verified='yes' source=\"a &amp; b\">\n"
      "  <filename>0001.jpg</filename>\n"
      "  <object><name> dog </name><empty/><bndbox><xmin>48</xmin></bndbox></object>\n"
      "  <object><name>cat &lt;&#65;&#x42;&gt;</name><note><![CDATA[<raw> & "
      "text]]></note></object>\n"
      "</annotation>\n",
      "doc.xml");
  ASSERT_THAT(root, IsOk());
  EXPECT_EQ(root->name, "annotation");
  EXPECT_EQ(root->line, 3);
  EXPECT_THAT(root->attributes, ElementsAre(Pair("verified", "yes"), Pair("source", "a & b")));
  EXPECT_EQ(root->FindChild("filename")->text, "0001.jpg");
  const std::vector<const XmlElement*> objects = root->FindChildren("object");
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0]->FindChild("name")->text, " dog ");
  EXPECT_EQ(objects[0]->FindChild("empty")->text, "");
  EXPECT_EQ(objects[0]->FindChild("bndbox")->FindChild("xmin")->text, "48");
  EXPECT_EQ(objects[1]->FindChild("name")->text, "cat <AB>");
  EXPECT_EQ(objects[1]->FindChild("note")->text, "<raw> & text");
  EXPECT_EQ(objects[1]->line, 6);
  EXPECT_EQ(root->FindChild("missing"), nullptr);
}

TEST(XmlTest, RejectsMalformedDocumentsWithLineAndColumn) {
  EXPECT_THAT(ParseXml("<a>\n<b>1</c>\n</a>", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("doc.xml:2:8: expected </b> (opened on line 2) but found </c>")));
  EXPECT_THAT(ParseXml("<a><b>1</b>", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing </a>")));
  EXPECT_THAT(ParseXml("<!DOCTYPE a><a/>", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("<!DOCTYPE>")));
  EXPECT_THAT(ParseXml("<a/>trailing", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("after the root element")));
  EXPECT_THAT(ParseXml("<a>&nbsp;</a>", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown entity '&nbsp;'")));
  EXPECT_THAT(ParseXml("<a>&#0;</a>", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad character reference")));
  EXPECT_THAT(ParseXml("<a x='1' x='2'/>", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate attribute 'x'")));
  EXPECT_THAT(ParseXml("<a x=1/>", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be quoted")));
  EXPECT_THAT(ParseXml("<a><!-- never closed </a>", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unterminated comment")));
  EXPECT_THAT(ParseXml("", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected the root element")));
  EXPECT_THAT(ParseXml("<a><1/></a>", "doc.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected a name")));
}

TEST(XmlTest, RejectsPathologicalNesting) {
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "<a>";
  for (int i = 0; i < 1000; ++i) deep += "</a>";
  EXPECT_THAT(ParseXml(deep, "deep.xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nested too deeply")));
}

}  // namespace
}  // namespace mochi::eval::voc
