#!/usr/bin/env bash
# Starts Glewlwyd (op.py sets it up) with the client of PORT, CLIENT_ID, CLIENT_SECRET and
# REDIRECT_URI (PKCE_ALLOWED=1: PKCE on); prints {"issuer": ...} once it answers.
set -euo pipefail
cd "$(dirname "$0")"
exec python3 op.py
