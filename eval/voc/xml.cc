#include "eval/voc/xml.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mochi::eval::voc {
namespace {

// Deeper nesting than this is not an annotation file; refusing it keeps the recursion bounded.
constexpr int kMaxDepth = 256;

bool IsNameStart(char c) {
  const auto u = static_cast<unsigned char>(c);
  return absl::ascii_isalpha(u) || c == '_' || c == ':' || u >= 0x80;
}

bool IsNameChar(char c) {
  return IsNameStart(c) || absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

class Parser {
 public:
  Parser(absl::string_view text, absl::string_view source) : text_(text), source_(source) {}

  absl::StatusOr<XmlElement> ParseDocument() {
    if (absl::StartsWith(text_, "\xEF\xBB\xBF")) pos_ = 3;  // UTF-8 byte order mark
    if (absl::Status status = SkipMisc(); !status.ok()) return status;
    if (AtEnd() || Peek() != '<') return Error("expected the root element");
    XmlElement root;
    if (absl::Status status = ParseElement(root, 0); !status.ok()) return status;
    if (absl::Status status = SkipMisc(); !status.ok()) return status;
    if (!AtEnd()) return Error("unexpected content after the root element");
    return root;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  bool LookingAt(absl::string_view s) const { return absl::StartsWith(text_.substr(pos_), s); }

  absl::Status Error(absl::string_view problem) const {
    int line = 1;
    int column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(source_, ":", line, ":", column, ": ", problem));
  }

  // Line of the current position; positions only move forward, so counting resumes where the
  // last call stopped.
  int Line() {
    for (; counted_to_ < pos_; ++counted_to_) line_ += text_[counted_to_] == '\n';
    return line_;
  }

  void SkipSpace() {
    while (!AtEnd() && IsSpace(Peek())) ++pos_;
  }

  // Skips past `terminator`, or fails with `what` if the text ends first.
  absl::Status SkipPast(absl::string_view terminator, absl::string_view what) {
    const size_t end = text_.find(terminator, pos_);
    if (end == absl::string_view::npos) return Error(absl::StrCat("unterminated ", what));
    pos_ = end + terminator.size();
    return absl::OkStatus();
  }

  // Whitespace, comments and processing instructions (outside the root element).
  absl::Status SkipMisc() {
    for (;;) {
      SkipSpace();
      if (LookingAt("<!--")) {
        if (absl::Status s = SkipPast("-->", "comment"); !s.ok()) return s;
      } else if (LookingAt("<?")) {
        if (absl::Status s = SkipPast("?>", "processing instruction"); !s.ok()) return s;
      } else if (LookingAt("<!DOCTYPE")) {
        return Error("document type declarations (<!DOCTYPE>) are not supported");
      } else {
        return absl::OkStatus();
      }
    }
  }

  absl::StatusOr<std::string> ParseName() {
    if (AtEnd() || !IsNameStart(Peek())) return Error("expected a name");
    const size_t start = pos_;
    while (!AtEnd() && IsNameChar(Peek())) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  // After '&': a predefined entity or a character reference, appended to `out`.
  absl::Status ParseReference(std::string& out) {
    const size_t end = text_.find(';', pos_);
    if (end == absl::string_view::npos || end - pos_ > 12)
      return Error("unterminated '&' reference");
    const absl::string_view entity = text_.substr(pos_ + 1, end - pos_ - 1);
    if (entity == "lt") {
      out.push_back('<');
    } else if (entity == "gt") {
      out.push_back('>');
    } else if (entity == "amp") {
      out.push_back('&');
    } else if (entity == "quot") {
      out.push_back('"');
    } else if (entity == "apos") {
      out.push_back('\'');
    } else if (absl::StartsWith(entity, "#")) {
      uint32_t code_point = 0;
      const bool hex = absl::StartsWith(entity, "#x");
      const absl::string_view digits = entity.substr(hex ? 2 : 1);
      const bool parsed = !digits.empty() && (hex ? absl::SimpleHexAtoi(digits, &code_point)
                                                  : absl::SimpleAtoi(digits, &code_point));
      if (!parsed || code_point == 0 || code_point > 0x10FFFF ||
          (code_point >= 0xD800 && code_point <= 0xDFFF) ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(digits[0]))) {
        return Error(absl::StrCat("bad character reference '&", entity, ";'"));
      }
      AppendUtf8(code_point, out);
    } else {
      return Error(absl::StrCat("unknown entity '&", entity, ";'"));
    }
    pos_ = end + 1;
    return absl::OkStatus();
  }

  absl::Status ParseAttributes(XmlElement& element) {
    for (;;) {
      const size_t before_space = pos_;
      SkipSpace();
      if (AtEnd()) return Error(absl::StrCat("unterminated start tag <", element.name, ">"));
      if (Peek() == '>' || LookingAt("/>")) return absl::OkStatus();
      if (pos_ == before_space) return Error("expected whitespace before an attribute");
      absl::StatusOr<std::string> name = ParseName();
      if (!name.ok()) return name.status();
      for (const auto& [existing, value] : element.attributes) {
        if (existing == *name) return Error(absl::StrCat("duplicate attribute '", *name, "'"));
      }
      SkipSpace();
      if (AtEnd() || Peek() != '=') return Error(absl::StrCat("expected '=' after '", *name, "'"));
      ++pos_;
      SkipSpace();
      if (AtEnd() || (Peek() != '"' && Peek() != '\'')) {
        return Error("attribute values must be quoted");
      }
      const char quote = Peek();
      ++pos_;
      std::string value;
      for (;;) {
        if (AtEnd()) return Error("unterminated attribute value");
        const char c = Peek();
        if (c == quote) break;
        if (c == '<') return Error("'<' in an attribute value");
        if (c == '&') {
          if (absl::Status s = ParseReference(value); !s.ok()) return s;
        } else {
          value.push_back(c);
          ++pos_;
        }
      }
      ++pos_;
      element.attributes.emplace_back(std::move(*name), std::move(value));
    }
  }

  // At '<' of a start tag; consumes through the matching end tag.
  absl::Status ParseElement(XmlElement& element, int depth) {
    if (depth > kMaxDepth) return Error("elements nested too deeply");
    element.line = Line();
    ++pos_;  // '<'
    absl::StatusOr<std::string> name = ParseName();
    if (!name.ok()) return name.status();
    element.name = std::move(*name);
    if (absl::Status s = ParseAttributes(element); !s.ok()) return s;
    if (LookingAt("/>")) {
      pos_ += 2;
      return absl::OkStatus();
    }
    ++pos_;  // '>'
    for (;;) {
      if (AtEnd()) return Error(absl::StrCat("missing </", element.name, ">"));
      const char c = Peek();
      if (c == '&') {
        if (absl::Status s = ParseReference(element.text); !s.ok()) return s;
      } else if (c != '<') {
        element.text.push_back(c);
        ++pos_;
      } else if (LookingAt("</")) {
        pos_ += 2;
        absl::StatusOr<std::string> closing = ParseName();
        if (!closing.ok()) return closing.status();
        if (*closing != element.name) {
          return Error(absl::StrCat("expected </", element.name, "> (opened on line ", element.line,
                                    ") but found </", *closing, ">"));
        }
        SkipSpace();
        if (AtEnd() || Peek() != '>') return Error(absl::StrCat("unterminated </", *closing));
        ++pos_;
        return absl::OkStatus();
      } else if (LookingAt("<!--")) {
        if (absl::Status s = SkipPast("-->", "comment"); !s.ok()) return s;
      } else if (LookingAt("<![CDATA[")) {
        const size_t start = pos_ + 9;
        if (absl::Status s = SkipPast("]]>", "CDATA section"); !s.ok()) return s;
        absl::StrAppend(&element.text, text_.substr(start, pos_ - 3 - start));
      } else if (LookingAt("<?")) {
        if (absl::Status s = SkipPast("?>", "processing instruction"); !s.ok()) return s;
      } else if (LookingAt("<!")) {
        return Error("declarations are not allowed inside elements");
      } else {
        element.children.emplace_back();
        if (absl::Status s = ParseElement(element.children.back(), depth + 1); !s.ok()) return s;
      }
    }
  }

  absl::string_view text_;
  absl::string_view source_;
  size_t pos_ = 0;
  size_t counted_to_ = 0;
  int line_ = 1;
};

}  // namespace

const XmlElement* XmlElement::FindChild(absl::string_view child_name) const {
  for (const XmlElement& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::FindChildren(absl::string_view child_name) const {
  std::vector<const XmlElement*> found;
  for (const XmlElement& child : children) {
    if (child.name == child_name) found.push_back(&child);
  }
  return found;
}

absl::StatusOr<XmlElement> ParseXml(absl::string_view text, absl::string_view source_name) {
  return Parser(text, source_name).ParseDocument();
}

}  // namespace mochi::eval::voc
