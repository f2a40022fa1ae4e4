#!/usr/bin/env bash
# Installs this RP's pinned dependencies (package-lock.json) from the npm registry.
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "install.sh: npm is needed (Debian: apt-get install nodejs npm)" >&2; exit 1; }
# The RP itself needs only its dependencies; its tests (vitest, jest) install with the sso-harness test.
npm ci --omit=dev --no-audit --no-fund --loglevel=error
