#!/bin/bash
# Installs a generated report into <workspace>/reports/ (default profile) or reports/<profile>/
# (ci, paper: so a ci run never overwrites a committed default-profile report): make_report
# --install stamps its document with the install time and writes <table>.report.json and the
# <table>.md rendered from it; CSV and SVGs are copied; then that directory's index.html is rebuilt.
# Run through `bazel run //pipelines:<table>`; args: <table> <profile> <report files...>.
set -euo pipefail
table="$1"; profile="$2"; shift 2
if [ -z "${BUILD_WORKSPACE_DIRECTORY:-}" ]; then
  echo "install_report: run me with 'bazel run //pipelines:${table}'" >&2
  exit 1
fi
reports="${BUILD_WORKSPACE_DIRECTORY}/reports"
[ "$profile" = default ] || reports="$reports/$profile"
mkdir -p "$reports"
shown="${reports#"$BUILD_WORKSPACE_DIRECTORY"/}"
make_report="${RUNFILES_DIR:-$0.runfiles}/mochi/pipelines/report/make_report"
[ -x "$make_report" ] || make_report="$(dirname "$0")/report/make_report"
installed_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for f in "$@"; do
  case "$f" in
    *.report.json)
      # Absolute: under bazel run, make_report takes relative paths from the workspace. The code
      # version is in the report's provenance block (each run's env.txt records the revision its
      # action ran at), so only the install time is added here.
      "$make_report" --install --document="$PWD/$f" --installed_at="$installed_at" \
          --out_dir="$reports" > /dev/null
      name="$(basename "$f" .report.json)"
      echo "wrote $shown/$name.md and $shown/$name.report.json" ;;
    *.csv|*.svg) cp -f "$f" "$reports/$(basename "$f")"; chmod u+w "$reports/$(basename "$f")" ;;
  esac
done
"$make_report" --index --reports_dir="$reports" --out="$reports/index.html"
echo "wrote $shown/index.html"
