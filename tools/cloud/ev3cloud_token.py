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
"""Paste filter of the local cloud: give token-less requests a noauth token.

Cinder's noauth middleware answers a request without ``X-Auth-Token`` with
an empty 204, which openstacksdk's version discovery cannot read.  This
filter, placed before ``noauth`` in the local cloud's api-paste.ini only,
adds ``X-Auth-Token: admin:<project>`` (the project configured with
``project``) to such requests.  It is never part of a production pipeline.
"""


class AddNoauthToken(object):
    """WSGI middleware adding the noauth token when a request has none."""

    def __init__(self, app, project):
        self.app = app
        self.token = 'admin:%s' % project

    def __call__(self, environ, start_response):
        if not environ.get('HTTP_X_AUTH_TOKEN'):
            environ['HTTP_X_AUTH_TOKEN'] = self.token
        return self.app(environ, start_response)


def filter_factory(global_conf, **local_conf):
    """Paste entry point: ``project`` is the hex project id to use."""
    project = local_conf.get('project') or global_conf.get('project')
    if not project:
        raise ValueError('ev3cloud_token needs "project" in its section')

    def _factory(app):
        return AddNoauthToken(app, project)
    return _factory
