#!/usr/bin/env bash
# Bazel's workspace status command (.bazelrc): prints GIT_REVISION, the commit the build's
# sources come from, "(with uncommitted changes)" appended when tracked files outside reports/
# differ from it. A volatile key (no STABLE_ prefix): a new commit does not re-run cached
# actions, and an action that does run (a pretraining) records the revision it ran at.
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$revision" != unknown ] &&
   [ -n "$(git status --porcelain --untracked-files=no -- . ':(exclude)reports' 2>/dev/null)" ]; then
  revision="$revision (with uncommitted changes)"
fi
echo "GIT_REVISION $revision"
