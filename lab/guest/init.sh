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
# PID 1 of an ev3 lab guest (no systemd, no udev). Kernel command line:
#   ev3.name=NAME ev3.role=storage|client ev3.net=MAC=ADDR/LEN[,...]
# Mounts the kernel file systems, loads LVM/DRBD/LIO modules, configures the
# links by MAC address, prepares VG "volumes" on /dev/vdb (storage), starts
# iscsid (client), then runs the command agent on the virtio-serial port.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -o remount,rw /
mkdir -p /run/lock/lvm /run/lvm /run/ev3 /run/lock/iscsi /var/lock

arg() {
    local word
    for word in $(cat /proc/cmdline); do
        case "$word" in
            "$1"=*) echo "${word#*=}" ;;
        esac
    done
}

NAME="$(arg ev3.name)"
ROLE="$(arg ev3.role)"
hostname "${NAME:-ev3-lab}"
echo "${NAME:-ev3-lab}" > /etc/hostname

mount -t configfs configfs /sys/kernel/config 2>/dev/null
for m in dm_mod dm_snapshot dm_thin_pool drbd target_core_mod \
        target_core_iblock iscsi_target_mod iscsi_tcp sd_mod virtio_console; do
    modprobe "$m" 2>/dev/null
done
mount -t configfs configfs /sys/kernel/config 2>/dev/null

ip link set lo up
for spec in $(arg ev3.net | tr ',' ' '); do
    mac="${spec%%=*}"
    addr="${spec#*=}"
    for dev in /sys/class/net/*; do
        if [ "$(cat "$dev/address")" = "$mac" ]; then
            ip addr add "$addr" dev "${dev##*/}"
            ip link set "${dev##*/}" up
        fi
    done
done

if [ "$ROLE" = storage ]; then
    if [ -b /dev/vdb ]; then
        if ! vgs volumes >/dev/null 2>&1; then
            pvcreate -q /dev/vdb && vgcreate -q volumes /dev/vdb
        fi
        vgchange -q -ay volumes
    else
        echo "ev3-init: no data disk /dev/vdb" > /dev/console
    fi
fi
if [ "$ROLE" = client ]; then
    /usr/sbin/iscsid
fi

echo "ev3-init: $NAME ($ROLE) ready for the agent" > /dev/console
while true; do
    python3 /opt/ev3/bin/agent.py >> /run/ev3/agent.log 2>&1
    sleep 1
done
