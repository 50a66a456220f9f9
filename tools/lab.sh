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
# The ev3 real-kernel lab: two storage VMs and one client VM under QEMU
# (software emulation), with real LVM, DRBD 8.4 and LIO in the guests and the
# driver's own code running in the storage VMs (doc/source/lab.rst).
#
#   bash tools/lab.sh build    guest image (cached by a hash of its inputs)
#   bash tools/lab.sh start    boot hci-0001, hci-0002 and the client
#   bash tools/lab.sh stop     stop the QEMU processes this lab started
#   bash tools/lab.sh status   which lab VMs run
#   bash tools/lab.sh drill    build + start as needed, run the failover drill
#   bash tools/lab.sh sh VM CMD     run a shell command in a guest
#   bash tools/lab.sh ctl VM JSON   send one request to a guest's agent
#
# Environment: EV3_LAB_CACHE (default /var/cache/ev3-lab), EV3_LAB_DIR (logs,
# consoles, disks, sockets; default <repo>/lab/run), EV3_LAB_PYTHON (the
# cp311 Python whose pip installs Cinder for the guests; default the repo's
# .venv).

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${EV3_LAB_CACHE:-/var/cache/ev3-lab}"
RUN="${EV3_LAB_DIR:-$REPO/lab/run}"
SUITE=bookworm
CINDER_REQ="cinder==29.0.0 fixtures"
PACKAGES="linux-image-amd64,lvm2,drbd-utils,python3-rtslib-fb,targetcli-fb"
PACKAGES="$PACKAGES,open-iscsi,sudo,python3,kmod,iproute2,e2fsprogs"
PACKAGES="$PACKAGES,procps,util-linux,python3-dbus,dbus"

log() {
    echo "lab: $*" >&2
}

die() {
    echo "lab: ERROR: $*" >&2
    exit 1
}

lab_python() {
    local py="${EV3_LAB_PYTHON:-}"
    if [ -z "$py" ]; then
        for py in "$REPO/.venv/bin/python" /tmp/venv/bin/python; do
            [ -x "$py" ] && break
        done
    fi
    [ -x "$py" ] || die "no Python with pip for the guest libraries" \
        "(set EV3_LAB_PYTHON)"
    local ver
    ver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    [ "$ver" = "3.11" ] || die "$py is Python $ver; the guests run 3.11"
    echo "$py"
}

need_host_tools() {
    local missing=()
    command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
    command -v qemu-img >/dev/null || missing+=(qemu-utils)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
}

mirror() {
    # The Debian mirror of this machine's own apt sources.
    local m
    m="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '{print $2}' | grep -v security | head -n 1)"
    if [ -z "$m" ]; then
        m="$(grep -hs '^deb ' /etc/apt/sources.list \
            /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '{print $2}' | grep -v security | head -n 1)"
    fi
    [ -n "$m" ] || die "no Debian mirror in this machine's apt sources"
    echo "$m"
}

sha() {
    sha256sum | cut -c1-16
}

base_key() {
    printf '%s\n%s\nbase-v1\n' "$SUITE" "$PACKAGES" | sha
}

pylib_key() {
    printf '%s\ncp311\npylib-v1\n' "$CINDER_REQ" | sha
}

tree_sum() {
    # Content hash of files (path + bytes), in a stable order.
    (cd "$REPO" && find "$@" -type f ! -name '*.pyc' \
        ! -path '*/__pycache__/*' ! -path 'lab/run/*' -print0 |
        LC_ALL=C sort -z | xargs -0 sha256sum)
}

image_key() {
    {
        base_key
        pylib_key
        tree_sum tools/lab.sh lab/guest cinder/volume/drivers/ovt \
            etc/cinder/rootwrap.d setup.cfg setup.py pyproject.toml
    } | sha
}

build_base() {
    local dir="$CACHE/base-$(base_key)"
    if [ -f "$dir/done" ]; then
        echo "$dir"
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    log "debootstrap $SUITE (minbase + $PACKAGES)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" \
        "$dir/rootfs" "$(mirror)" > "$dir/debootstrap.log" 2>&1 ||
        die "debootstrap failed; see $dir/debootstrap.log"
    rm -rf "$dir/rootfs/var/cache/apt/archives/"*.deb
    touch "$dir/done"
    echo "$dir"
}

build_pylib() {
    local dir="$CACHE/pylib-$(pylib_key)"
    if [ -f "$dir/done" ]; then
        echo "$dir"
        return
    fi
    local py
    py="$(lab_python)"
    rm -rf "$dir"
    mkdir -p "$dir"
    log "pip install --target $CINDER_REQ (cp311 wheels)"
    "$py" -m pip install -q --no-compile --target "$dir/lib" $CINDER_REQ \
        > "$dir/pip.log" 2>&1 || die "pip failed; see $dir/pip.log"
    touch "$dir/done"
    echo "$dir"
}

build() {
    local started=$SECONDS
    need_host_tools
    mkdir -p "$CACHE"
    local key img
    key="$(image_key)"
    img="$CACHE/image-$key"
    if [ -f "$img/done" ]; then
        log "image $key cached ($img)"
        echo "$img" > "$CACHE/current"
        return
    fi
    local base pylib py stage
    base="$(build_base)"
    pylib="$(build_pylib)"
    py="$(lab_python)"
    stage="$CACHE/stage-$key"
    rm -rf "$stage" "$img"
    mkdir -p "$img"
    log "assembling image $key"
    cp -a "$base/rootfs" "$stage"
    mkdir -p "$stage/opt/ev3"
    cp -a "$pylib/lib" "$stage/opt/ev3/lib"
    # The driver, installed from the working tree (what `pip install .`
    # of the package ships).
    local wheeldir
    wheeldir="$(mktemp -d)"
    "$py" -m pip install -q --no-compile --no-deps --upgrade \
        --target "$wheeldir" "$REPO" > "$img/pip-driver.log" 2>&1 ||
        die "pip install of the driver failed; see $img/pip-driver.log"
    rm -rf "$stage/opt/ev3/lib/cinder/volume/drivers/ovt"
    cp -a "$wheeldir/cinder/volume/drivers/ovt" \
        "$stage/opt/ev3/lib/cinder/volume/drivers/ovt"
    rm -rf "$wheeldir"
    # The Cinder test modules the guest harness reuses (objects, DB).
    bash "$REPO/lab/guest/configure-rootfs.sh" "$stage" "$REPO"
    cp "$stage"/boot/vmlinuz-* "$img/vmlinuz"
    cp "$stage"/boot/initrd.img-* "$img/initrd.img"
    mkfs.ext4 -q -F -L ev3root -d "$stage" "$img/base.img" 4G ||
        die "mkfs.ext4 -d failed"
    rm -rf "$stage"
    touch "$img/done"
    echo "$img" > "$CACHE/current"
    # Older images of this cache are never used again.
    find "$CACHE" -maxdepth 1 -name 'image-*' ! -name "image-$key" \
        -exec rm -rf {} +
    log "image $key built in $((SECONDS - started)) s"
    mkdir -p "$RUN"
    echo "image_build $((SECONDS - started))" >> "$RUN/build-timings.txt"
}

case "${1:-}" in
    build)
        build
        ;;
    _base)
        need_host_tools
        mkdir -p "$CACHE"
        build_base
        ;;
    _pylib)
        mkdir -p "$CACHE"
        build_pylib
        ;;
    start|drill)
        build
        exec python3 "$REPO/lab/labctl.py" "$@"
        ;;
    *)
        exec python3 "$REPO/lab/labctl.py" "$@"
        ;;
esac
