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
# A real Cinder on this machine running ev3 on two simulated storage hosts.
#
#   bash tools/cloud.sh demo     start the cloud from nothing, walk through the
#                                user's runbook with the real CLIs, leave the
#                                cloud running and print how to use it
#   bash tools/cloud.sh start    start it (MariaDB, RabbitMQ, cinder-api,
#                                cinder-scheduler, cinder-volume hci-0001@RBS
#                                and hci-0002@RBS), wait until all are up
#   bash tools/cloud.sh stop     stop every process it started, by PID; the
#                                logs stay in .cloud/logs
#   bash tools/cloud.sh status   processes and Cinder's service list
#   bash tools/cloud.sh e2e [PART...]
#                                start, run tools/cloud/e2e.py (migrate,
#                                runbook, lifecycle, bad-input, concurrent),
#                                stop;
#                                the exit status is the tests'
#
# Needs root (the storage hosts run in mount and UTS namespaces) and a Debian
# machine: MariaDB and RabbitMQ come from Debian packages, installed here when
# missing; Cinder, this driver and the clients go into .venv
# (tools/setup-venv.sh and tools/cloud/requirements.txt).  Everything listens
# on 127.0.0.0/8 only: MariaDB 13306, RabbitMQ 15673 (epmd 15674), cinder-api
# 18776, the ev3 peer APIs 127.0.0.21:7000 and 127.0.0.22:7000.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${EV3_VENV:-$REPO/.venv}"
export EV3_VENV="$VENV"
STAMP="$VENV/.ev3-cloud-requirements.sha256"

log() {
    echo "cloud.sh: $*"
}

die() {
    echo "cloud.sh: ERROR: $*" >&2
    exit 1
}

setup() {
    [ "$(id -u)" -eq 0 ] || die "run as root (namespaces, services)"
    command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) missing"
    local missing=()
    command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
    [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
    if [ "${#missing[@]}" -ne 0 ]; then
        log "installing ${missing[*]} (their services are not used: the cloud"
        log "starts its own instances on 127.0.0.1)"
        DEBIAN_FRONTEND=noninteractive apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y \
            --no-install-recommends "${missing[@]}"
    fi
    bash "$REPO/tools/setup-venv.sh"
    local wanted
    wanted="$(sha256sum "$REPO/tools/cloud/requirements.txt" | cut -d' ' -f1)"
    if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$wanted" ]; then
        log "pip install -r tools/cloud/requirements.txt"
        "$VENV/bin/python" -m pip --disable-pip-version-check install \
            -r "$REPO/tools/cloud/requirements.txt"
        echo "$wanted" > "$STAMP"
    fi
}

cloud() {
    PYTHONWARNINGS=ignore "$VENV/bin/python" "$REPO/tools/cloud/cloud.py" "$@"
}

e2e() {
    PYTHONWARNINGS=ignore "$VENV/bin/python" "$REPO/tools/cloud/e2e.py" "$@"
}

command="${1:-}"
[ "$#" -gt 0 ] && shift
case "$command" in
    start)
        setup
        cloud start
        ;;
    stop)
        cloud stop
        ;;
    status|usage)
        cloud "$command"
        ;;
    demo)
        setup
        cloud stop >/dev/null 2>&1 || true
        cloud start
        e2e runbook
        cloud usage
        ;;
    e2e)
        setup
        cloud stop >/dev/null 2>&1 || true
        trap 'cloud stop' EXIT
        cloud start
        e2e "$@"
        ;;
    *)
        die "usage: bash tools/cloud.sh {demo|start|stop|status|e2e [PART...]}"
        ;;
esac
