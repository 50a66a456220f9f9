#!/bin/bash
# Copyright 2026 ev3 developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.
#
# Run ev3's unit tests against the INSTALLED package.
#
#   bash tools/run-tests.sh [stestr filter ...]
#
# Prepares .venv (tools/setup-venv.sh: Cinder 29.0.0, test tools and a real
# `pip install .`), then runs stestr in parallel on the tests under the
# venv's site-packages/cinder/tests/unit/volume/drivers/ovt with that
# site-packages as top dir, with EV3_SOURCE_DIR set to this checkout (the
# packaging tests build a wheel from it).
#
# The last line printed is "N passed, N failed" (", N skipped" when any).
# The exit status is non-zero when any test failed or none ran.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${EV3_VENV:-$REPO/.venv}"
export EV3_VENV="$VENV"

bash "$REPO/tools/setup-venv.sh"

PY="$VENV/bin/python"
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
TEST_PATH="$SITE/cinder/tests/unit/volume/drivers/ovt"
export EV3_SOURCE_DIR="$REPO"

# stestr keeps its repository in the current directory: use one inside the
# venv, fresh for every run, so that the summary can only describe this run
# and the checkout's own cinder/ directory is not on the test path.
RUN_DIR="$VENV/stestr-run"
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
cd "$RUN_DIR"

summary() {
    # Count the results of the stored run with python-subunit.
    "$VENV/bin/stestr" last --subunit 2>/dev/null | "$PY" -c '
import collections
import sys

import subunit
import testtools

counts = collections.Counter()
result = testtools.StreamToDict(lambda test: counts.update([test["status"]]))
result.startTestRun()
subunit.ByteStreamToStreamResult(
    sys.stdin.buffer, non_subunit_name="stdout").run(result)
result.stopTestRun()
passed = counts["success"] + counts["xfail"]
failed = counts["fail"] + counts["uxsuccess"] + counts["inprogress"]
print(passed, failed, counts["skip"])
' || echo "0 0 0"
}

status=0
if [ ! -d "$TEST_PATH" ]; then
    echo "run-tests: no installed tests in $TEST_PATH" >&2
    status=1
else
    echo "run-tests: stestr --test-path $TEST_PATH --top-dir $SITE run $*"
    "$VENV/bin/stestr" --test-path "$TEST_PATH" --top-dir "$SITE" \
        run "$@" || status=$?
    # stestr may end its last message without a newline.
    echo
fi

read -r passed failed skipped < <(summary)
if [ "$((passed + failed))" -eq 0 ]; then
    echo "run-tests: no test was executed" >&2
    status=1
elif [ "$failed" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=1
fi

line="$passed passed, $failed failed"
if [ "$skipped" -ne 0 ]; then
    line="$line, $skipped skipped"
fi
echo "$line"
exit "$status"
