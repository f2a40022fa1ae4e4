#!/usr/bin/env bash
# Installs playwright-core (pinned in package-lock.json) to drive Debian's chromium; no
# browser is downloaded: the tests use /usr/bin/chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "install.sh: npm is needed (Debian: apt-get install nodejs npm)" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
