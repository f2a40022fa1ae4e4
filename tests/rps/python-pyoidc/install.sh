#!/usr/bin/env bash
# Installs this RP's pinned dependencies into .venv (beside this script) from PyPI.
set -euo pipefail
cd "$(dirname "$0")"
command -v python3 >/dev/null || { echo "install.sh: python3 is needed" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
