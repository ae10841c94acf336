#!/usr/bin/env bash
# require_free_bytes: passes when the space is there, fails with what is needed and free when not,
# and measures the filesystem of the nearest existing parent of a directory not made yet.
set -uo pipefail
source tools/disk_space.sh
fail() { echo "FAIL: $*" >&2; exit 1; }
dir="${TEST_TMPDIR:-/tmp}/not/made/yet"

require_free_bytes "$dir" 1 "one byte" 2>/dev/null || fail "1 byte reported as not free"

free=$(( $(df -Pk "${TEST_TMPDIR:-/tmp}" | awk 'NR == 2 { print $4 }') * 1024 ))
message=$(require_free_bytes "$dir" $(( free + 2**40 )) "A test unpack" 2>&1) \
  && fail "1 TiB more than is free reported as free"
echo "$message" | grep -q "A test unpack needs .* GiB free in $dir, and only .* GiB is free" \
  || fail "message does not say what is needed and free: $message"
[ -d "$dir" ] && fail "the check made $dir"
echo "PASS"
