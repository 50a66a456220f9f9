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
# CI step of the real-kernel lab: runs the failover drill (tools/lab.sh
# drill) with real LVM, DRBD 8.4 and LIO in QEMU guests, reusing the cached
# guest image when its inputs did not change.  Exits non-zero when the drill
# fails AND when the lab cannot run at all (no QEMU, too little memory or
# disk, image build failure): it never passes having skipped the drill.
#
# Takes about 15-20 minutes on 2 cores with a cached image (doc/source/lab.rst).

set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${EV3_LAB_CACHE:-/var/cache/ev3-lab}"
RUN="${EV3_LAB_DIR:-$REPO/lab/run}"
started=$SECONDS

cannot() {
    echo "=== lab-ci: THE LAB CANNOT RUN: $*" >&2
    echo "=== lab-ci: FAILED (the failover drill did not run)" >&2
    exit 1
}

trap 'bash "$REPO/tools/lab.sh" stop >/dev/null 2>&1' EXIT INT TERM

[ "$(uname -m)" = x86_64 ] || cannot "the lab needs an x86_64 machine"
[ "$(id -u)" -eq 0 ] || cannot "run as root (debootstrap, mkfs.ext4 -d)"
mem_kib="$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)"
[ "${mem_kib:-0}" -ge $((4 * 1024 * 1024)) ] ||
    cannot "needs 4 GiB of free memory for three guests, has" \
        "$((${mem_kib:-0} / 1024)) MiB"
mkdir -p "$CACHE" "$RUN" || cannot "cannot create $CACHE or $RUN"
free_kib="$(df -Pk "$CACHE" | awk 'NR == 2 {print $4}')"
[ "${free_kib:-0}" -ge $((8 * 1024 * 1024)) ] ||
    cannot "needs 8 GiB free under $CACHE"

echo "=== lab-ci: image (cached under $CACHE)"
bash "$REPO/tools/lab.sh" build || cannot "the guest image did not build"
command -v qemu-system-x86_64 >/dev/null ||
    cannot "qemu-system-x86_64 is not installed"

echo "=== lab-ci: failover drill (logs in $RUN)"
before="$(cat "$RUN/lab.log" 2>/dev/null | wc -l)"
bash "$REPO/tools/lab.sh" drill
status=$?
if [ "$status" -ne 0 ]; then
    if ! tail -n +"$((before + 1))" "$RUN/lab.log" 2>/dev/null |
        grep -q '== create replicated volume'
    then
        cannot "the lab did not start (see $RUN/lab.log and the" \
            "*.console / *.qemu.log files there)"
    fi
    echo "=== lab-ci: drill FAILED (status $status," \
        "$((SECONDS - started)) s); see $RUN/lab.log" >&2
    exit 1
fi
echo "=== lab-ci: drill passed in $((SECONDS - started)) s"
