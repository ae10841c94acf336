// Report generator for the table pipelines.
//   make_report --spec=table1_spec.json --out_dir=reports [--root=DIR]
//   make_report --install --document=table1.report.json --out_dir=reports [--installed_at=TIME]
//   make_report --index --reports_dir=reports --out=reports/index.html
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mochi/port/paths.h"
#include "pipelines/report/html_index.h"
#include "pipelines/report/machine_info.h"
#include "pipelines/report/report_install.h"
#include "pipelines/report/report_writer.h"

ABSL_FLAG(std::string, spec, "",
          "Report spec JSON (rows, runs and result files, columns, figures).");
ABSL_FLAG(std::string, out_dir, "",
          "Receives <table>.md, <table>.report.json, <table>.csv and <table>_<figure>.svg "
          "(--install: <table>.md and <table>.report.json).");
ABSL_FLAG(std::string, root, "",
          "Directory relative result paths in the spec are taken from (default: the workspace "
          "under `bazel run`, else the current directory, i.e. the execroot in an action).");
ABSL_FLAG(bool, install, false,
          "Install --document into --out_dir, stamped with --installed_at, instead of writing a "
          "report.");
ABSL_FLAG(std::string, document, "", "--install: the <table>.report.json that make_report wrote.");
ABSL_FLAG(absl::Time, installed_at, absl::InfinitePast(),
          "--install: the install time, RFC 3339 (default: now).");
ABSL_FLAG(bool, index, false, "Write an HTML index of --reports_dir instead of a report.");
ABSL_FLAG(std::string, reports_dir, "",
          "--index: directory holding the reports' <table>.report.json documents.");
ABSL_FLAG(std::string, out, "", "--index: the HTML file (default <reports_dir>/index.html).");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "make_report: %s\n", message.c_str());
  return EXIT_FAILURE;
}

int PrintWritten(const absl::StatusOr<std::vector<std::string>>& written) {
  if (!written.ok()) return Fail(written.status().ToString());
  for (const std::string& path : *written) std::printf("wrote %s\n", path.c_str());
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_index)) {
    if (absl::GetFlag(FLAGS_reports_dir).empty()) return Fail("--index needs --reports_dir");
    const std::string reports_dir = mochi::ResolvePath(absl::GetFlag(FLAGS_reports_dir));
    const std::string out = absl::GetFlag(FLAGS_out).empty()
                                ? reports_dir + "/index.html"
                                : mochi::ResolvePath(absl::GetFlag(FLAGS_out));
    const absl::Status status = mochi::report::WriteIndex(reports_dir, out);
    if (!status.ok()) return Fail(status.ToString());
    std::printf("wrote %s\n", out.c_str());
    return EXIT_SUCCESS;
  }
  if (absl::GetFlag(FLAGS_install)) {
    if (absl::GetFlag(FLAGS_document).empty() || absl::GetFlag(FLAGS_out_dir).empty()) {
      return Fail("--install needs --document=FILE and --out_dir=DIR");
    }
    mochi::report::InstallRequest request;
    request.document_path = mochi::ResolvePath(absl::GetFlag(FLAGS_document));
    request.out_dir = mochi::ResolvePath(absl::GetFlag(FLAGS_out_dir));
    request.installed_at = absl::GetFlag(FLAGS_installed_at);
    if (request.installed_at == absl::InfinitePast()) request.installed_at = absl::Now();
    return PrintWritten(mochi::report::InstallReport(request));
  }
  if (absl::GetFlag(FLAGS_spec).empty() || absl::GetFlag(FLAGS_out_dir).empty()) {
    return Fail(
        "--spec=FILE and --out_dir=DIR are required (or --install --document=FILE, or --index "
        "--reports_dir=DIR)");
  }
  mochi::report::ReportRequest request;
  request.spec_path = mochi::ResolvePath(absl::GetFlag(FLAGS_spec));
  request.out_dir = mochi::ResolvePath(absl::GetFlag(FLAGS_out_dir));
  request.root = absl::GetFlag(FLAGS_root).empty() ? mochi::ResolvePath(".")
                                                   : mochi::ResolvePath(absl::GetFlag(FLAGS_root));
  request.machine = mochi::report::DescribeThisMachine();
  request.now = absl::Now();
  return PrintWritten(mochi::report::WriteReport(request));
}
