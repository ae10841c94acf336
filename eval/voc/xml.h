// A small, strict XML reader for annotation files such as PASCAL VOC's: elements, attributes,
// character data, the five predefined entities and numeric character references, CDATA sections,
// comments, processing instructions and the XML declaration. Document type declarations
// (<!DOCTYPE ...>) are rejected rather than half-supported, as is anything malformed; every error
// names the source, line and column.
//
// Example:
//   MOCHI_ASSIGN_OR_RETURN(XmlElement root, ParseXml("<a><b>1</b></a>", "inline"));
//   root.FindChild("b")->text;  // "1"
#ifndef EVAL_VOC_XML_H_
#define EVAL_VOC_XML_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mochi::eval::voc {

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;  // document order
  std::string text;  // the character data directly inside this element, concatenated
  std::vector<XmlElement> children;
  int line = 0;  // line of the start tag, for error messages

  // The first direct child called `child_name`, or nullptr.
  const XmlElement* FindChild(absl::string_view child_name) const;
  // All direct children called `child_name`, in document order.
  std::vector<const XmlElement*> FindChildren(absl::string_view child_name) const;
};

// Parses a whole document and returns its root element. InvalidArgument
// "<source_name>:<line>:<column>: <problem>" on any error.
absl::StatusOr<XmlElement> ParseXml(absl::string_view text, absl::string_view source_name);

}  // namespace mochi::eval::voc

#endif  // EVAL_VOC_XML_H_
