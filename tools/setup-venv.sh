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
# Prepare the test environment of ev3 on a Debian 12 machine, idempotently:
#
#   1. apt-get install what is missing of python3, python3-venv, python3-dev,
#      gcc, git, libffi-dev, libssl-dev (apt is not touched at all when
#      everything is there, so a prepared machine works offline);
#   2. create the virtualenv .venv in the repository with the machine's
#      python3 (or reuse it when it is valid);
#   3. pip install -r test-requirements.txt (Cinder 29.0.0 and the test
#      tools), skipped when the requirement files did not change;
#   4. pip install . -- a real, non-editable install of ev3-cinder-driver,
#      so that the tests exercise what the package ships.
#
# Environment: EV3_VENV (default <repo>/.venv), EV3_PYTHON (default python3).
# Runs unattended (CI=true, no input) as root; uses sudo -n otherwise.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${EV3_VENV:-$REPO/.venv}"
PYTHON="${EV3_PYTHON:-python3}"
STAMP="$VENV/.ev3-requirements.sha256"

log() {
    echo "setup-venv: $*"
}

die() {
    echo "setup-venv: ERROR: $*" >&2
    exit 1
}

# --- 1. system packages -----------------------------------------------------

dpkg_has() {
    command -v dpkg-query >/dev/null 2>&1 &&
        dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
        grep -q 'install ok installed'
}

python_has() {
    command -v "$PYTHON" >/dev/null 2>&1 && "$PYTHON" -c "$1" >/dev/null 2>&1
}

# A package counts as present when dpkg has it or when what it provides
# works (a python3 built elsewhere, e.g. pyenv, brings venv and headers).
have() {
    dpkg_has "$1" && return 0
    case "$1" in
        python3) command -v "$PYTHON" >/dev/null 2>&1 ;;
        python3-venv) python_has 'import ensurepip, venv' ;;
        python3-dev) python_has 'import os, sysconfig, sys
sys.exit(not os.path.isfile(os.path.join(
    sysconfig.get_paths()["include"], "Python.h")))' ;;
        gcc) command -v gcc >/dev/null 2>&1 ;;
        git) command -v git >/dev/null 2>&1 ;;
        libffi-dev) [ -e /usr/include/ffi.h ] ||
            compgen -G '/usr/include/*/ffi.h' >/dev/null ;;
        libssl-dev) [ -e /usr/include/openssl/ssl.h ] ;;
        *) return 1 ;;
    esac
}

missing=()
for package in python3 python3-venv python3-dev gcc git libffi-dev \
        libssl-dev; do
    have "$package" || missing+=("$package")
done

if [ "${#missing[@]}" -eq 0 ]; then
    log "system packages: all present, apt not needed"
else
    command -v apt-get >/dev/null 2>&1 ||
        die "missing ${missing[*]} and there is no apt-get; install them"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "not root and no sudo"
        SUDO=(sudo -n)
    fi
    log "system packages missing: ${missing[*]}"
    log "running: apt-get update"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    log "running: apt-get install -y ${missing[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends "${missing[@]}"
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "no $PYTHON after apt-get"
PY_VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
    die "$PYTHON is Python $PY_VERSION; ev3 needs 3.9 or newer"

# --- 2. the virtualenv --------------------------------------------------------

venv_valid() {
    [ -x "$VENV/bin/python" ] && [ -f "$VENV/pyvenv.cfg" ] &&
        [ "$("$VENV/bin/python" -c \
            'import sys; print("%d.%d" % sys.version_info[:2])' \
            2>/dev/null)" = "$PY_VERSION" ] &&
        "$VENV/bin/python" -m pip --version >/dev/null 2>&1
}

if venv_valid; then
    log "reusing virtualenv $VENV (Python $PY_VERSION)"
else
    if [ -e "$VENV" ]; then
        log "removing invalid virtualenv $VENV"
        rm -rf "$VENV"
    fi
    log "creating virtualenv $VENV with $(command -v "$PYTHON") (Python $PY_VERSION)"
    "$PYTHON" -m venv "$VENV"
fi

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

# --- 3. requirements ----------------------------------------------------------

requirements_hash() {
    (cd "$REPO" && cat requirements.txt test-requirements.txt &&
        echo "python $PY_VERSION") | sha256sum | cut -d' ' -f1
}

wanted="$(requirements_hash)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; then
    log "requirements unchanged since the last install, skipping pip"
else
    rm -f "$STAMP"
    log "running: pip install --upgrade pip setuptools wheel"
    "${PIP[@]}" install --upgrade pip 'setuptools>=64' wheel
    log "running: pip install -r test-requirements.txt (Cinder 29.0.0 ...)"
    "${PIP[@]}" install -r "$REPO/test-requirements.txt"
    echo "$wanted" > "$STAMP"
fi

# --- 4. ev3 itself ------------------------------------------------------------

# Stale build output would let deleted modules slip into the wheel.
log "removing build output: build/ *.egg-info"
rm -rf "$REPO/build" "$REPO"/*.egg-info
log "running: pip install --force-reinstall --no-deps --no-build-isolation ."
(cd "$REPO" && "${PIP[@]}" install --force-reinstall --no-deps \
    --no-build-isolation .)
rm -rf "$REPO/build" "$REPO"/*.egg-info
log "checking that ev3's own requirements are satisfied (pip check)"
if broken="$("${PIP[@]}" check 2>&1)"; then
    :
elif echo "$broken" | grep -i '^ev3-cinder-driver'; then
    die "ev3-cinder-driver has unmet requirements"
else
    log "note: pip check reports problems outside ev3:"
    echo "$broken"
fi

SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
[ -f "$SITE/cinder/volume/drivers/ovt/ev3.py" ] ||
    die "ev3 is not installed in $SITE"
log "ready: $VENV (ev3 installed in $SITE)"
