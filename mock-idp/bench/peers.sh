#!/usr/bin/env bash
# mock-idp side by side with oauth2-mock-server and oidc-provider (pinned in package.json),
# a bare hyper server and openssl, in one run on this machine: start-up, RSS ready and after
# a long client_credentials load, discovery/JWKS/token req/s under the same wrk loads, and
# the ratios (mock-idp ÷ best peer, ÷ bare server, ÷ openssl floor), and a fresh provider per
# test (a mock-idp tenant against a new peer server, created → first discovery 200). Needs
# wrk, node/npm, openssl. Usage: mock-idp/bench/peers.sh [--seconds 10] [--token-load 60]
# [--startups 10] [--tenants 50] [--only tenants (no wrk needed)]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tools="node npm openssl python3"
[[ " $* " == *" --only tenants "* ]] || tools="wrk $tools"
for tool in $tools; do
  command -v "$tool" >/dev/null || { echo "peers.sh needs $tool on the PATH (wrk: apt-get install wrk)" >&2; exit 2; }
done
cd "$root"
cargo build --release -q -p mock-idp --bin mock-idp --example bare_server
peers="$root/target/bench-peers"
mkdir -p "$peers"
cp "$here/package.json" "$here"/*.mjs "$peers/"
(cd "$peers" && npm install --no-audit --no-fund --silent)
exec python3 "$here/peers.py" \
  --mock-idp "$root/target/release/mock-idp" \
  --bare "$root/target/release/examples/bare_server" \
  --peers "$peers" "$@"
