#!/usr/bin/env bash
# Installs Glewlwyd from Debian's archive (bookworm: 2.7.5) with openssl, which op.py uses
# for the signing key. Needs root (CI runs as root) when they are missing.
set -euo pipefail
need=()
command -v glewlwyd >/dev/null || need+=(glewlwyd)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "install.sh: apt-get install ${need[*]} (as root)" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
dpkg-query -W -f='glewlwyd ${Version}\n' glewlwyd
