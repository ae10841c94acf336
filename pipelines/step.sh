#!/usr/bin/env bash
# One pipeline step (a pretraining, a linear evaluation, a transfer) as a Bazel action runs it
# (pipelines/defs.bzl) and as a SLURM job runs it (pipelines/slurm): the same script with the
# same binary, config and arguments, so both find the same run directory in the run store.
#
#   step.sh --store=DIR --mode=scratch|keep|read --key=TEXT --tag=TAG --hash=FILE... \
#     [--lock=FILE] [--resume_if=REL] [--scenes_tool=BIN --scenes_flags=FLAGS] \
#     [--copy=REL:DEST]... [--print_dir] -- BINARY ARG...
#
# The run directory is DIR/<16 hex digits of SHA-1>: of the --hash files' contents (the binary,
# the config, an input checkpoint), --key (overrides, seed, init) and --tag (the run tag). In the
# ARGs, @DIR@ becomes that directory, @SCENES@ its generated scenes, and @RESUME@ --resume when
# DIR/<resume_if> exists (an interrupted run), else nothing. A completed run has DIR/DONE and is
# never run again: its files are only copied out (--copy).
#   scratch: Bazel's outputs keep the results, so the directory goes once they are copied.
#   keep:    a shared store (a cluster's jobs, later builds): finished runs stay.
#   read:    never run a binary; a step that is not DONE is an error (a report built from a
#            cluster's results must not start training on the node that builds it).
# In a multi-process job (srun), only rank 0 (SLURM_PROCID / RANK) marks DONE and copies.
set -euo pipefail

store="" mode="scratch" key="" tag="" lock="" resume_if="" scenes_tool="" scenes_flags=""
print_dir=0
hashes=() copies=()
while [ $# -gt 0 ]; do
  case "$1" in
    --store=*) store="${1#*=}" ;;
    --mode=*) mode="${1#*=}" ;;
    --key=*) key="${1#*=}" ;;
    --tag=*) tag="${1#*=}" ;;
    --hash=*) hashes+=("${1#*=}") ;;
    --lock=*) lock="${1#*=}" ;;
    --resume_if=*) resume_if="${1#*=}" ;;
    --scenes_tool=*) scenes_tool="${1#*=}" ;;
    --scenes_flags=*) scenes_flags="${1#*=}" ;;
    --copy=*) copies+=("${1#*=}") ;;
    --print_dir) print_dir=1 ;;
    --) shift; break ;;
    *) echo "step.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$store" ] || { echo "step.sh: --store is required" >&2; exit 2; }
[ ${#hashes[@]} -gt 0 ] || { echo "step.sh: at least one --hash is required" >&2; exit 2; }
case "$mode" in scratch|keep|read) ;; *) echo "step.sh: --mode=$mode" >&2; exit 2 ;; esac
for f in "${hashes[@]}"; do
  [ -f "$f" ] || { echo "step.sh: $f (part of the run's identity) does not exist" >&2; exit 1; }
done

id=$({ cat "${hashes[@]}"; printf '%s\n%s\n' "$key" "$tag"; } | sha1sum | cut -c1-16)
dir="$store/$id"
if [ "$print_dir" -eq 1 ]; then echo "$dir"; exit 0; fi
[ $# -gt 0 ] || { echo "step.sh: no command after --" >&2; exit 2; }
rank="${SLURM_PROCID:-${RANK:-0}}"
if [ -n "$lock" ] && [ "$mode" != read ]; then
  # The whole step under the machine-wide lock: one training at a time, and a step another
  # build is running is found DONE when it gets its turn instead of being run twice.
  exec 9>>"$lock"
  flock 9
fi

if [ -f "$dir/DONE" ]; then
  echo "step.sh: $dir is complete ($(cat "$dir/DONE")); not running it again"
elif [ "$mode" = read ]; then
  echo "step.sh: $dir is not complete in the store $store, and --mode=read never trains." >&2
  echo "  Was the binary, config or run tag changed since the plan ran? Command: $*" >&2
  exit 1
else
  mkdir -p "$dir"
  if [ -n "$scenes_tool" ] && [ ! -d "$dir/scenes" ]; then
    # Generated once (deterministic); a half-written set is regenerated.
    rm -rf "$dir/scenes.partial"
    # shellcheck disable=SC2086  # the flags are words
    "$scenes_tool" --output_dir="$dir/scenes.partial" $scenes_flags >"$dir/scenes.log"
    mv "$dir/scenes.partial" "$dir/scenes"
  fi
  resume=""
  if [ -n "$resume_if" ] && [ -f "$dir/$resume_if" ]; then resume="--resume"; fi
  command=()
  for arg in "$@"; do
    arg="${arg//@DIR@/$dir}"
    arg="${arg//@SCENES@/$dir/scenes}"
    if [ "$arg" = "@RESUME@" ]; then
      [ -z "$resume" ] || command+=("$resume")
    else
      command+=("$arg")
    fi
  done
  "${command[@]}"
  if [ "$rank" = 0 ]; then date -u +%Y-%m-%dT%H:%M:%SZ >"$dir/DONE"; fi
fi

if [ "$rank" = 0 ]; then
  for copy in "${copies[@]+"${copies[@]}"}"; do
    cp "$dir/${copy%%:*}" "${copy#*:}"
  done
  if [ "$mode" = scratch ]; then rm -rf "$dir"; fi
fi
