#!/usr/bin/env bash
# Starts the provider (op.py) with the client of PORT, CLIENT_ID, CLIENT_SECRET and
# REDIRECT_URI; it prints {"issuer": ...} once it listens.
set -euo pipefail
cd "$(dirname "$0")"
exec .venv/bin/python op.py
