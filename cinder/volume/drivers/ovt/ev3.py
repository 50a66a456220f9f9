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
"""ev3: replicated block storage for Cinder on LVM, DRBD and LIO."""

from oslo_log import log as logging

from cinder import interface
from cinder.volume.drivers import lvm
from cinder.volume.drivers.ovt import options

LOG = logging.getLogger(__name__)


@interface.volumedriver
class ReplicatedVolumeDriver(lvm.LVMVolumeDriver):
    """Cinder volumes as DRBD resources mirrored to peer hosts."""

    VERSION = '0.1.0'
    CI_WIKI_NAME = 'ev3_CI'

    def __init__(self, *args, **kwargs):
        super(ReplicatedVolumeDriver, self).__init__(*args, **kwargs)
        self.configuration.append_config_values(options.ev3_opts)

    @classmethod
    def get_driver_options(cls):
        """Options of the LVM driver plus ev3's own."""
        return (super(ReplicatedVolumeDriver, cls).get_driver_options() +
                options.ev3_opts)
