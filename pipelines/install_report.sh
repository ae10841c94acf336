#!/bin/bash
# Copies a generated report (and its SVGs) into <workspace>/reports/ (default profile) or
# reports/<profile>/ (ci, paper: so a ci run never overwrites a committed default-profile report),
# stamps it with the install time, and rebuilds that directory's index.html.
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
for f in "$@"; do
  case "$f" in
    *.md)
      # The code version is in the report's provenance block (each run's env.txt records the
      # revision its action ran at), so only the install time is added here.
      { cat "$f"; printf '\nInstalled by bazel run: %s UTC.\n' \
          "$(date -u +%Y-%m-%dT%H:%M:%S)"; } > "$reports/$(basename "$f")"
      echo "wrote $shown/$(basename "$f")" ;;
    *.csv|*.svg) cp -f "$f" "$reports/$(basename "$f")"; chmod u+w "$reports/$(basename "$f")" ;;
  esac
done
make_report="${RUNFILES_DIR:-$0.runfiles}/mochi/pipelines/report/make_report"
[ -x "$make_report" ] || make_report="$(dirname "$0")/report/make_report"
"$make_report" --index --reports_dir="$reports" --out="$reports/index.html"
echo "wrote $shown/index.html"
