#include "eval/voc/voc_annotation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "eval/voc/xml.h"
#include "mochi/port/status_macros.h"
#include "mochi/port/text_proto.h"

namespace mochi::eval::voc {
namespace {

absl::Status Invalid(absl::string_view source, int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ":", line, ": ", what));
}

// The one child called `name`; an error if it is missing or repeated.
absl::StatusOr<const XmlElement*> OnlyChild(const XmlElement& parent, absl::string_view name,
                                            absl::string_view source) {
  const std::vector<const XmlElement*> found = parent.FindChildren(name);
  if (found.empty()) {
    return Invalid(source, parent.line, absl::StrCat("<", parent.name, "> has no <", name, ">"));
  }
  if (found.size() > 1) {
    return Invalid(source, found[1]->line,
                   absl::StrCat("<", parent.name, "> has more than one <", name, ">"));
  }
  return found[0];
}

// Python's int() on the element text: optional surrounding whitespace and sign, then digits.
absl::StatusOr<int64_t> IntegerText(const XmlElement& element, absl::string_view source) {
  const absl::string_view text = absl::StripAsciiWhitespace(element.text);
  int64_t value = 0;
  const bool digits_only =
      !text.empty() && text.find_first_not_of("+-0123456789") == absl::string_view::npos;
  if (!element.children.empty() || !digits_only || !absl::SimpleAtoi(text, &value)) {
    return Invalid(
        source, element.line,
        absl::StrCat("<", element.name, "> must be an integer, got '", element.text, "'"));
  }
  return value;
}

absl::StatusOr<VocObject> ParseObject(const XmlElement& object, absl::string_view source) {
  VocObject parsed;
  MOCHI_ASSIGN_OR_RETURN(const XmlElement* name, OnlyChild(object, "name", source));
  parsed.name = std::string(absl::StripAsciiWhitespace(name->text));
  if (parsed.name.empty()) return Invalid(source, name->line, "empty <name>");
  const std::vector<const XmlElement*> difficult = object.FindChildren("difficult");
  if (difficult.size() > 1) {
    return Invalid(source, difficult[1]->line, "<object> has more than one <difficult>");
  }
  if (!difficult.empty()) {
    MOCHI_ASSIGN_OR_RETURN(int64_t flag, IntegerText(*difficult[0], source));
    parsed.difficult = flag != 0;
  }
  MOCHI_ASSIGN_OR_RETURN(const XmlElement* box, OnlyChild(object, "bndbox", source));
  MOCHI_ASSIGN_OR_RETURN(const XmlElement* xmin, OnlyChild(*box, "xmin", source));
  MOCHI_ASSIGN_OR_RETURN(const XmlElement* ymin, OnlyChild(*box, "ymin", source));
  MOCHI_ASSIGN_OR_RETURN(const XmlElement* xmax, OnlyChild(*box, "xmax", source));
  MOCHI_ASSIGN_OR_RETURN(const XmlElement* ymax, OnlyChild(*box, "ymax", source));
  MOCHI_ASSIGN_OR_RETURN(parsed.xmin, IntegerText(*xmin, source));
  MOCHI_ASSIGN_OR_RETURN(parsed.ymin, IntegerText(*ymin, source));
  MOCHI_ASSIGN_OR_RETURN(parsed.xmax, IntegerText(*xmax, source));
  MOCHI_ASSIGN_OR_RETURN(parsed.ymax, IntegerText(*ymax, source));
  return parsed;
}

}  // namespace

absl::StatusOr<VocAnnotation> ParseVocAnnotation(absl::string_view xml,
                                                 absl::string_view source_name) {
  MOCHI_ASSIGN_OR_RETURN(XmlElement root, ParseXml(xml, source_name));
  if (root.name != "annotation") {
    return Invalid(source_name, root.line,
                   absl::StrCat("the root element is <", root.name, ">, expected <annotation>"));
  }
  VocAnnotation annotation;
  for (const XmlElement* object : root.FindChildren("object")) {
    MOCHI_ASSIGN_OR_RETURN(VocObject parsed, ParseObject(*object, source_name));
    annotation.objects.push_back(std::move(parsed));
  }
  return annotation;
}

absl::StatusOr<VocAnnotation> LoadVocAnnotation(const std::string& path) {
  MOCHI_ASSIGN_OR_RETURN(std::string xml, ReadFileToString(path));
  return ParseVocAnnotation(xml, path);
}

}  // namespace mochi::eval::voc
