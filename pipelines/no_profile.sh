#!/bin/bash
# Runner of a table that has no setup for the selected profile (e.g. table3 under --config=ci).
echo "//pipelines:$1 is not defined for the $2 profile (see pipelines/tables.bzl)" >&2
exit 1
