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
"""Exceptions of the ev3 driver.

All are rooted in Cinder's exceptions so that Cinder's manager treats them as
driver failures; messages are templates filled from keyword arguments.
"""

from cinder import exception
from cinder.i18n import _


class Ev3Error(exception.VolumeDriverException):
    """Base of every ev3 failure."""

    message = _("ev3 error: %(reason)s")


class ConfigError(exception.InvalidConfigurationValue):
    """A backend option is missing or wrong; stops the backend at start."""

    message = _("ev3 backend [%(section)s]: option %(option)s %(problem)s. "
                "Fix: %(fix)s")


class InvalidName(Ev3Error):
    """A name or field that must never reach a command or a path."""

    message = _("Invalid %(what)s %(value)r: %(reason)s")


class DrbdCommandError(Ev3Error):
    """A DRBD command failed; carries the command and what DRBD said."""

    message = _("DRBD command %(cmd)s failed on %(host)s (exit %(code)s): "
                "%(stderr)s")


class ResourceNotFound(Ev3Error):
    """The resource is not configured on this host."""

    message = _("DRBD resource %(name)s is not configured on %(host)s")


class ReplicaConflict(Ev3Error):
    """Minor or port already used by another resource on a host."""

    message = _("Cannot place resource %(name)s on %(host)s: %(reason)s")


class RoleChangeRefused(Ev3Error):
    """A promotion or demotion that would break a storage rule."""

    message = _("Refusing to make %(name)s %(role)s on %(host)s: %(reason)s")


class HostFrozen(Ev3Error):
    """The host is frozen: lifecycle changes are refused."""

    message = _("Backend %(host)s is frozen: %(action)s refused until "
                "'cinder thaw-host'")


class PeerError(exception.VolumeBackendAPIException):
    """A peer failed a request or could not be reached."""

    message = _("Peer %(peer)s: %(reason)s")


class PeerAuthError(PeerError):
    """A peer rejected our signature: its secret differs from ours."""

    message = _("Peer %(peer)s rejected our signature (%(reason)s): check "
                "that replication_internal_secret is the same on both hosts")
