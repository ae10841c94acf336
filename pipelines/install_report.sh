#!/bin/bash
# Copies a generated report (and its SVGs) into <workspace>/reports/ (default profile) or
# reports/<profile>/ (ci, paper: so a ci run never overwrites a committed default-profile report),
# stamps it with the code version, and rebuilds that directory's index.html.
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
revision=$(git -C "$BUILD_WORKSPACE_DIRECTORY" rev-parse HEAD 2>/dev/null || echo unknown)
# reports/ is this script's output, not code: installing one report must not mark the next dirty.
if [ -n "$(git -C "$BUILD_WORKSPACE_DIRECTORY" status --porcelain --untracked-files=no -- . ':(exclude)reports' 2>/dev/null)" ]; then
  revision="${revision} (with uncommitted changes)"
fi
for f in "$@"; do
  case "$f" in
    *.md)
      # Bazel guarantees the outputs match the current sources, so this is their code version.
      { cat "$f"; printf '\nCode version (installed by bazel run): %s, %s UTC.\n' \
          "$revision" "$(date -u +%Y-%m-%dT%H:%M:%S)"; } > "$reports/$(basename "$f")"
      echo "wrote $shown/$(basename "$f")" ;;
    *.csv|*.svg) cp -f "$f" "$reports/$(basename "$f")"; chmod u+w "$reports/$(basename "$f")" ;;
  esac
done
make_report="${RUNFILES_DIR:-$0.runfiles}/mochi/pipelines/report/make_report"
[ -x "$make_report" ] || make_report="$(dirname "$0")/report/make_report"
"$make_report" --index --reports_dir="$reports" --out="$reports/index.html"
echo "wrote $shown/index.html"
