# Sourced by the setup scripts: fail before a large unpack or install, with what it needs and what
# is free, instead of unzip's "write error (disk full?)" halfway through.
# require_free_bytes DIR BYTES WHAT: DIR is on the filesystem written to (it may not exist yet).
require_free_bytes() {
  local dir="$1" need="$2" what="$3" probe free
  probe="$dir"
  while [ ! -d "$probe" ]; do probe=$(dirname "$probe"); done
  free=$(( $(df -Pk "$probe" | awk 'NR == 2 { print $4 }') * 1024 ))
  if [ "$free" -lt "$need" ]; then
    awk -v n="$need" -v f="$free" -v w="$what" -v d="$dir" 'BEGIN {
      printf "setup: %s needs %.1f GiB free in %s, and only %.1f GiB is free.\n",
        w, n / 2^30, d, f / 2^30 }' >&2
    echo "setup: free some space (old checkouts' .deps, unused Bazel output bases in" \
      "~/.cache/bazel) and rerun." >&2
    return 1
  fi
}
