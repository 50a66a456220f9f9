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
"""Sphinx configuration of the ev3 documentation.

Plain Sphinx with the alabaster theme, so that ``tox -e docs`` builds from
PyPI packages alone. ``oslo_config.sphinxext`` renders the options of the
installed driver (namespace ``ev3``).
"""

project = 'ev3 Cinder driver'
copyright = '2026, ev3 developers'
author = 'ev3 developers'
version = '0.1'
release = '0.1.0'

extensions = [
    'oslo_config.sphinxext',
]

templates_path = []
source_suffix = '.rst'
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'sphinx'

html_theme = 'alabaster'
html_static_path = []
html_theme_options = {
    'description': 'Replicated block storage for OpenStack Cinder',
    'fixed_sidebar': True,
}
