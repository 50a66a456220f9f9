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
# Configure an ev3 lab guest root file system (called by tools/lab.sh build
# on a copy of the debootstrap tree): PID 1 script, command agent, guest
# harness, LVM without udev, DRBD defaults, sudo + cinder-rootwrap, iSCSI.
#   configure-rootfs.sh ROOTFS REPO

set -euo pipefail

ROOT="$1"
REPO="$2"
HERE="$REPO/lab/guest"

install -d "$ROOT/opt/ev3/bin" "$ROOT/etc/cinder/rootwrap.d" "$ROOT/var/log/cinder" \
    "$ROOT/var/lib/cinder" "$ROOT/etc/drbd.d" "$ROOT/etc/target"
install -m 0755 "$HERE/init.sh" "$ROOT/opt/ev3/bin/init"
install -m 0755 "$HERE/agent.py" "$ROOT/opt/ev3/bin/agent.py"
install -m 0644 "$HERE/harness.py" "$HERE/blockio.py" "$ROOT/opt/ev3/bin/"

# Entry points of the Python packages installed under /opt/ev3/lib.
entry() {
    local name="$1" module="$2" func="$3"
    cat > "$ROOT/usr/local/bin/$name" <<EOS
#!/usr/bin/python3
import sys
sys.path.insert(0, '/opt/ev3/lib')
from $module import $func
sys.exit($func())
EOS
    chmod 0755 "$ROOT/usr/local/bin/$name"
}
entry cinder-rootwrap oslo_rootwrap.cmd main
entry privsep-helper oslo_privsep.daemon helper_main
entry cinder-rtstool cinder.cmd.rtstool main

# Cinder's rootwrap: its volume.filters plus the driver's ev3.filters.
LIB="$ROOT/opt/ev3/lib"
cp "$LIB/etc/cinder/rootwrap.conf" "$ROOT/etc/cinder/rootwrap.conf" \
    2>/dev/null || cat > "$ROOT/etc/cinder/rootwrap.conf" <<'EOS'
[DEFAULT]
filters_path=/etc/cinder/rootwrap.d
exec_dirs=/sbin,/usr/sbin,/bin,/usr/bin,/usr/local/bin,/usr/local/sbin
use_syslog=False
syslog_log_facility=syslog
syslog_log_level=ERROR
EOS
VF="$(find "$LIB" -name volume.filters -path '*rootwrap.d*' | head -n 1)"
[ -n "$VF" ] || { echo "no volume.filters under $LIB" >&2; exit 1; }
cp "$VF" "$ROOT/etc/cinder/rootwrap.d/volume.filters"
cp "$REPO/etc/cinder/rootwrap.d/ev3.filters" "$ROOT/etc/cinder/rootwrap.d/"
chmod 0644 "$ROOT/etc/cinder/rootwrap.d/"*

# The service user, allowed exactly the root helper (as in Cinder's
# packaging).
grep -q '^cinder:' "$ROOT/etc/passwd" || {
    echo 'cinder:x:990:990:cinder:/var/lib/cinder:/bin/sh' \
        >> "$ROOT/etc/passwd"
    echo 'cinder:x:990:' >> "$ROOT/etc/group"
    echo 'cinder:*:19000:0:99999:7:::' >> "$ROOT/etc/shadow"
}
chown -R 990:990 "$ROOT/var/lib/cinder" "$ROOT/var/log/cinder"
cat > "$ROOT/etc/sudoers.d/cinder" <<'EOS'
Defaults:cinder !requiretty
cinder ALL = (root) NOPASSWD: /usr/local/bin/cinder-rootwrap /etc/cinder/rootwrap.conf *
EOS
chmod 0440 "$ROOT/etc/sudoers.d/cinder"

# LVM without udev, dmeventd or lvmetad; only the data disk.
cat > "$ROOT/etc/lvm/lvmlocal.conf" <<'EOS'
devices {
    filter = [ "a|^/dev/vdb$|", "r|.*|" ]
    global_filter = [ "a|^/dev/vdb$|", "r|.*|" ]
    obtain_device_list_from_udev = 0
    scan = [ "/dev" ]
}
activation {
    udev_sync = 0
    udev_rules = 0
    monitoring = 0
}
global {
    event_activation = 0
}
EOS

# DRBD: no usage reporting; the lab's detection of a dead peer (ping-int
# 3 s, ping-timeout 1 s) as measured in LAB-NOTES.
cat > "$ROOT/etc/drbd.d/global_common.conf" <<'EOS'
global {
    usage-count no;
}
common {
    net {
        ping-int 3;
        ping-timeout 10;
    }
}
EOS

# open-iscsi without systemd: iscsid started by the agent, short timeouts.
ISC="$ROOT/etc/iscsi/iscsid.conf"
sed -i -e 's|^iscsid.startup.*|iscsid.startup = /usr/sbin/iscsid|' \
    -e 's|^node.session.timeo.replacement_timeout.*|node.session.timeo.replacement_timeout = 5|' \
    -e 's|^node.conn\[0\].timeo.noop_out_interval.*|node.conn[0].timeo.noop_out_interval = 2|' \
    -e 's|^node.conn\[0\].timeo.noop_out_timeout.*|node.conn[0].timeo.noop_out_timeout = 2|' \
    -e 's|^node.startup.*|node.startup = manual|' "$ISC"
echo 'InitiatorName=iqn.1993-08.org.debian:01:client' \
    > "$ROOT/etc/iscsi/initiatorname.iscsi"

echo 'ev3-lab' > "$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n10.0.10.21 hci-0001\n10.0.10.22 hci-0002\n' \
    > "$ROOT/etc/hosts"
echo '/dev/vda / ext4 rw 0 1' > "$ROOT/etc/fstab"
: > "$ROOT/etc/resolv.conf"
