#!/usr/bin/env bash
# The soak at length, in release mode: `mock-idp serve` under a mixed load (logins through
# the form, rotating refreshes, client_credentials, userinfo, introspection, admin patches
# and deletes, key rotations) against a model of every user, as fast as the machine goes;
# requests, p50/p99 latency and the server's RSS per minute (mock-idp/tests/it/soak.rs).
# Fails on any 5xx, transport error or lost update. CI runs 4 seconds.
# Usage: mock-idp/soak.sh [SECONDS]   (default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS="${1:-600}" cargo test --release -p mock-idp --test it soak -- --nocapture
