// A hand-built report document with every block and span kind, and the text the renderers must
// escape: "<", "&" and "|" in a table cell, the "*" significance mark, a relative and an absolute
// image URL.
#ifndef TESTS_PIPELINES_REPORT_SAMPLE_DOCUMENT_H_
#define TESTS_PIPELINES_REPORT_SAMPLE_DOCUMENT_H_

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "mochi/port/text_proto.h"
#include "pipelines/report/report_document.pb.h"

namespace mochi::report::testing {

inline ReportDocument SampleDocument() {
  ReportDocument document;
  const absl::Status status = ParseTextProto(
      R"pb(
        blocks { generated { generator: "//pipelines/report:make_report" source: "spec.json" } }
        blocks { heading { level: 1 text: "Table 1: <IN-100> & co" } }
        blocks {
          paragraph {
            spans { text: "Table " }
            spans { code: "t1" }
            spans { text: ", see " }
            spans { link { text: "the CSV" href: "t1.csv" } }
            spans { text: " and " }
            spans { strong: "note" }
            spans { text: "." }
          }
        }
        blocks { heading { level: 2 text: "Results" } }
        blocks {
          table {
            header { spans { text: "Method" } }
            header { spans { text: "top-1 | %" } }
            header { spans { text: "p (Welch)" } }
            header { spans { text: "note" } }
            alignment: [ LEFT, RIGHT, RIGHT ]
            rows {
              cells { spans { text: "MoCHi | x <y> & z" } }
              cells { spans { text: "86.00 ± 1.00 (3 seeds)" } }
              cells { spans { text: "0.004 *" } }
              cells { spans { code: "a|b" } }
            }
            rows {
              cells { spans { text: "two\nlines" } }
              cells { spans { text: "1" } }
              cells { spans { text: "n/a" } }
              cells {}
            }
          }
        }
        blocks { heading { level: 3 text: "Proxy task" } }
        blocks { image { src: "t1_proxy.svg" alt: "Proxy \"acc\"" } }
        blocks { image { src: "https://example.org/x.svg" alt: "abs" } }
        blocks {
          bullet_list {
            items {
              spans { text: "Profile: " }
              spans { code: "ci" }
            }
            items { spans { text: "a < b & c" } }
          }
        }
      )pb",
      "SampleDocument", &document);
  EXPECT_TRUE(status.ok()) << status;
  return document;
}

}  // namespace mochi::report::testing

#endif  // TESTS_PIPELINES_REPORT_SAMPLE_DOCUMENT_H_
