#!/bin/bash
# ev3 demo on a fresh Debian 12 machine: sets up .venv (Cinder 29.0.0 and this
# driver installed from the working tree), then runs tools/demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-venv.sh
exec .venv/bin/python tools/demo.py "$@"
