#!/bin/bash
# Runner of //pipelines:<table>_slurm_plan: writes the table's SLURM plan (pipelines/slurm).
# args: <plan json> <write_plan binary>, then the user's flags (--out, --store, --submit, ...).
set -euo pipefail
plan="$1"; writer="$2"; shift 2
exec "$writer" --plan="$plan" "$@"
