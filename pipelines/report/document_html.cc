#include "pipelines/report/document_html.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "pipelines/report/svg_plot.h"

namespace mochi::report {
namespace {

bool IsRelativeUrl(absl::string_view url) {
  return !url.empty() && url[0] != '/' && url[0] != '#' && !absl::StrContains(url, "://") &&
         !absl::StartsWith(url, "data:") && !absl::StartsWith(url, "mailto:");
}

std::string Url(const std::string& url, const HtmlOptions& options) {
  return XmlEscape(IsRelativeUrl(url) ? absl::StrCat(options.url_prefix, url) : url);
}

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

std::string RenderSpans(const google::protobuf::RepeatedPtrField<Span>& spans,
                        const HtmlOptions& options) {
  std::string html;
  for (const Span& span : spans) {
    switch (span.kind_case()) {
      case Span::kText:
        absl::StrAppend(&html, XmlEscape(span.text()));
        break;
      case Span::kCode:
        absl::StrAppend(&html, "<code>", XmlEscape(span.code()), "</code>");
        break;
      case Span::kStrong:
        absl::StrAppend(&html, "<strong>", XmlEscape(span.strong()), "</strong>");
        break;
      case Span::kLink:
        absl::StrAppend(&html, "<a href=\"", Url(span.link().href(), options), "\">",
                        XmlEscape(span.link().text()), "</a>");
        break;
      case Span::KIND_NOT_SET:
        break;
    }
  }
  return html;
}

std::string RenderTable(const Table& table, const HtmlOptions& options) {
  auto cell = [&](const char* tag, int column, const Table::Cell& cell) {
    const Table::Alignment align =
        column < table.alignment_size() ? table.alignment(column) : Table::ALIGNMENT_UNSPECIFIED;
    const char* align_class = align == Table::LEFT    ? " class=\"left\""
                              : align == Table::RIGHT ? " class=\"right\""
                                                      : "";
    return absl::StrCat("<", tag, align_class, ">", RenderSpans(cell.spans(), options), "</", tag,
                        ">");
  };
  std::string html = "<table>\n<thead><tr>";
  for (int c = 0; c < table.header_size(); ++c) html += cell("th", c, table.header(c));
  html += "</tr></thead>\n<tbody>\n";
  for (const Table::Row& row : table.rows()) {
    html += "<tr>";
    for (int c = 0; c < row.cells_size(); ++c) html += cell("td", c, row.cells(c));
    html += "</tr>\n";
  }
  html += "</tbody>\n</table>\n";
  return html;
}

std::string RenderBlock(const Block& block, const HtmlOptions& options) {
  switch (block.kind_case()) {
    case Block::kGenerated:
      return "";
    case Block::kHeading: {
      const Heading& heading = block.heading();
      const int level = std::clamp(heading.level(), 1, 6);
      return absl::StrCat("<h", level, " id=\"", XmlEscape(options.id_prefix), Slug(heading.text()),
                          "\">", XmlEscape(heading.text()), "</h", level, ">\n");
    }
    case Block::kParagraph:
      return absl::StrCat("<p>", RenderSpans(block.paragraph().spans(), options), "</p>\n");
    case Block::kTable:
      return RenderTable(block.table(), options);
    case Block::kImage:
      return absl::StrCat("<p><img src=\"", Url(block.image().src(), options), "\" alt=\"",
                          XmlEscape(block.image().alt()), "\"></p>\n");
    case Block::kBulletList: {
      std::string html = "<ul>\n";
      for (const BulletList::Item& item : block.bullet_list().items()) {
        absl::StrAppend(&html, "<li>", RenderSpans(item.spans(), options), "</li>\n");
      }
      return html + "</ul>\n";
    }
    case Block::KIND_NOT_SET:
      break;
  }
  return "";
}

}  // namespace

std::string RenderHtml(const ReportDocument& document, const HtmlOptions& options) {
  std::string html;
  for (const Block& block : document.blocks()) html += RenderBlock(block, options);
  return html;
}

}  // namespace mochi::report
