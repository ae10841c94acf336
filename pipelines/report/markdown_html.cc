#include "pipelines/report/markdown_html.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "pipelines/report/svg_plot.h"

namespace mochi::report {
namespace {

bool IsRelativeUrl(absl::string_view url) {
  return !url.empty() && url[0] != '/' && url[0] != '#' && !absl::StrContains(url, "://") &&
         !absl::StartsWith(url, "data:") && !absl::StartsWith(url, "mailto:");
}

class InlineRenderer {
 public:
  explicit InlineRenderer(const MarkdownOptions& options) : options_(options) {}

  std::string Render(absl::string_view text) const {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (c == '\\' && i + 1 < text.size() && absl::ascii_ispunct(text[i + 1])) {
        out += XmlEscape(text.substr(i + 1, 1));
        i += 2;
      } else if (c == '`') {
        const size_t end = text.find('`', i + 1);
        if (end == absl::string_view::npos) {
          out += "`";
          ++i;
          continue;
        }
        // Inside a code span only the table's pipe escape is undone.
        const std::string code(text.substr(i + 1, end - i - 1));
        absl::StrAppend(&out, "<code>", XmlEscape(absl::StrReplaceAll(code, {{"\\|", "|"}})),
                        "</code>");
        i = end + 1;
      } else if ((c == '!' && i + 1 < text.size() && text[i + 1] == '[') || c == '[') {
        const bool image = c == '!';
        const size_t open = image ? i + 1 : i;
        const size_t close = text.find("](", open);
        const size_t end = close == absl::string_view::npos ? close : text.find(')', close + 2);
        if (end == absl::string_view::npos) {
          out += XmlEscape(text.substr(i, 1));
          ++i;
          continue;
        }
        const absl::string_view label = text.substr(open + 1, close - open - 1);
        const std::string url = Url(text.substr(close + 2, end - close - 2));
        if (image) {
          absl::StrAppend(&out, "<img src=\"", XmlEscape(url), "\" alt=\"", XmlEscape(label),
                          "\">");
        } else {
          absl::StrAppend(&out, "<a href=\"", XmlEscape(url), "\">", Render(label), "</a>");
        }
        i = end + 1;
      } else if (c == '*' && i + 1 < text.size() && text[i + 1] == '*') {
        const size_t end = text.find("**", i + 2);
        if (end == absl::string_view::npos || end == i + 2) {
          out += "**";
          i += 2;
          continue;
        }
        absl::StrAppend(&out, "<strong>", Render(text.substr(i + 2, end - i - 2)), "</strong>");
        i = end + 2;
      } else {
        out += XmlEscape(text.substr(i, 1));
        ++i;
      }
    }
    return out;
  }

 private:
  std::string Url(absl::string_view url) const {
    url = absl::StripAsciiWhitespace(url);
    return IsRelativeUrl(url) ? absl::StrCat(options_.url_prefix, url) : std::string(url);
  }

  const MarkdownOptions& options_;
};

std::string Slug(absl::string_view text) {
  std::string slug;
  for (char c : text) {
    if (absl::ascii_isalnum(c)) {
      slug += absl::ascii_tolower(c);
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? "section" : slug;
}

// Cells of a "| a | b |" line; "\|" does not split.
std::vector<std::string> SplitRow(absl::string_view line) {
  line = absl::StripAsciiWhitespace(line);
  absl::ConsumePrefix(&line, "|");
  if (absl::EndsWith(line, "|") && !absl::EndsWith(line, "\\|")) line.remove_suffix(1);
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += "\\|";
      ++i;
    } else if (line[i] == '|') {
      cells.push_back(std::string(absl::StripAsciiWhitespace(cell)));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  cells.push_back(std::string(absl::StripAsciiWhitespace(cell)));
  return cells;
}

bool IsSeparatorRow(absl::string_view line) {
  line = absl::StripAsciiWhitespace(line);
  if (!absl::StartsWith(line, "|") || !absl::StrContains(line, "-")) return false;
  return line.find_first_not_of("|:- ") == absl::string_view::npos;
}

bool IsTableLine(absl::string_view line) {
  return absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "|");
}

// "- item", "* item", "12. item": the item text, or false.
bool ListItem(absl::string_view line, bool* ordered, absl::string_view* item) {
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(line);
  if (absl::ConsumePrefix(&rest, "- ") || absl::ConsumePrefix(&rest, "* ")) {
    *ordered = false;
    *item = rest;
    return true;
  }
  size_t digits = 0;
  while (digits < rest.size() && absl::ascii_isdigit(rest[digits])) ++digits;
  if (digits > 0 && absl::StartsWith(rest.substr(digits), ". ")) {
    *ordered = true;
    *item = rest.substr(digits + 2);
    return true;
  }
  return false;
}

int HeadingLevel(absl::string_view line) {
  int level = 0;
  while (level < static_cast<int>(line.size()) && line[level] == '#') ++level;
  if (level == 0 || level > 6 || level >= static_cast<int>(line.size()) || line[level] != ' ') {
    return 0;
  }
  return level;
}

}  // namespace

std::string MarkdownToHtml(absl::string_view markdown, const MarkdownOptions& options) {
  const InlineRenderer inline_renderer(options);
  const std::vector<absl::string_view> lines = absl::StrSplit(markdown, '\n');
  std::string html;
  std::vector<std::string> paragraph;
  auto flush_paragraph = [&] {
    if (paragraph.empty()) return;
    absl::StrAppend(&html, "<p>", inline_renderer.Render(absl::StrJoin(paragraph, " ")), "</p>\n");
    paragraph.clear();
  };
  size_t i = 0;
  while (i < lines.size()) {
    absl::string_view line = absl::StripTrailingAsciiWhitespace(lines[i]);
    const absl::string_view stripped = absl::StripLeadingAsciiWhitespace(line);
    if (stripped.empty()) {
      flush_paragraph();
      ++i;
      continue;
    }
    if (absl::StartsWith(stripped, "<!--")) {  // generated-file banner and other comments
      flush_paragraph();
      while (i < lines.size() && !absl::StrContains(lines[i], "-->")) ++i;
      ++i;
      continue;
    }
    if (absl::StartsWith(stripped, "```")) {
      flush_paragraph();
      std::vector<std::string> code;
      for (++i; i < lines.size() &&
                !absl::StartsWith(absl::StripLeadingAsciiWhitespace(lines[i]), "```");
           ++i) {
        code.push_back(XmlEscape(lines[i]));
      }
      ++i;  // closing fence
      absl::StrAppend(&html, "<pre><code>", absl::StrJoin(code, "\n"), "</code></pre>\n");
      continue;
    }
    if (const int level = HeadingLevel(stripped); level > 0) {
      flush_paragraph();
      const absl::string_view text = absl::StripAsciiWhitespace(stripped.substr(level + 1));
      absl::StrAppend(&html, "<h", level, " id=\"", XmlEscape(options.id_prefix), Slug(text), "\">",
                      inline_renderer.Render(text), "</h", level, ">\n");
      ++i;
      continue;
    }
    if (IsTableLine(line) && i + 1 < lines.size() && IsSeparatorRow(lines[i + 1])) {
      flush_paragraph();
      const std::vector<std::string> header = SplitRow(line);
      std::vector<std::string> aligns;
      for (const std::string& spec : SplitRow(lines[i + 1])) {
        const bool left = absl::StartsWith(spec, ":");
        const bool right = absl::EndsWith(spec, ":");
        aligns.push_back(left && right ? "center" : right ? "right" : left ? "left" : "");
      }
      auto cell = [&](const char* tag, size_t column, const std::string& text) {
        const std::string align = column < aligns.size() ? aligns[column] : "";
        return absl::StrCat("<", tag, align.empty() ? "" : absl::StrCat(" class=\"", align, "\""),
                            ">", inline_renderer.Render(text), "</", tag, ">");
      };
      html += "<table>\n<thead><tr>";
      for (size_t c = 0; c < header.size(); ++c) html += cell("th", c, header[c]);
      html += "</tr></thead>\n<tbody>\n";
      for (i += 2; i < lines.size() && IsTableLine(lines[i]); ++i) {
        const std::vector<std::string> row = SplitRow(lines[i]);
        html += "<tr>";
        // Rows are padded or cut to the header's width, as GitHub renders them.
        for (size_t c = 0; c < header.size(); ++c)
          html += cell("td", c, c < row.size() ? row[c] : "");
        html += "</tr>\n";
      }
      html += "</tbody>\n</table>\n";
      continue;
    }
    bool ordered = false;
    absl::string_view item;
    if (ListItem(line, &ordered, &item)) {
      flush_paragraph();
      const bool list_ordered = ordered;
      absl::StrAppend(&html, list_ordered ? "<ol>\n" : "<ul>\n");
      std::vector<std::string> items;
      while (i < lines.size()) {
        const absl::string_view current = absl::StripTrailingAsciiWhitespace(lines[i]);
        if (ListItem(current, &ordered, &item) && ordered == list_ordered) {
          items.emplace_back(item);
        } else if (!items.empty() && !current.empty() && absl::ascii_isspace(current[0])) {
          absl::StrAppend(&items.back(), " ", absl::StripLeadingAsciiWhitespace(current));
        } else {
          break;  // a blank line or another block ends the list
        }
        ++i;
      }
      for (const std::string& text : items) {
        absl::StrAppend(&html, "<li>", inline_renderer.Render(text), "</li>\n");
      }
      absl::StrAppend(&html, list_ordered ? "</ol>\n" : "</ul>\n");
      continue;
    }
    paragraph.emplace_back(stripped);
    ++i;
  }
  flush_paragraph();
  return html;
}

}  // namespace mochi::report
