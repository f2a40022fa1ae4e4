#!/usr/bin/env bash
# The stateful fuzzer at volume, in release mode: generated sequences of logins, exchanges,
# refreshes, bearer calls, admin changes, faults, clock moves, key rotations and tenants
# created and deleted, plus random requests with live values, at every endpoint of every
# tenant (mock-idp/tests/it/stateful_fuzz.rs). 40,000 sequences send about a million
# requests; CI runs 200. Usage: mock-idp/fuzz.sh [SEQUENCES]
set -euo pipefail
cd "$(dirname "$0")/.."
STATEFUL_FUZZ_CASES="${1:-40000}" cargo test --release -p mock-idp --test it stateful_fuzz -- --nocapture
