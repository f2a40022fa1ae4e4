#!/usr/bin/env bash
# Installs this provider's pinned dependencies (requirements.txt) into .venv from PyPI.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
