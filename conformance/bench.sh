#!/usr/bin/env bash
# Wall time of the whole catalogue against the reference RP (launch mode, release builds,
# fixtures/rp/reference-rp.toml: 2 s sync deadline, 0.25 s sync interval, 1 s IdP timeout;
# all six categories, all three sync modes).
# Usage: conformance/bench.sh [runs] [extra conformance args]   (default 5 runs; prints each
# run and the median), e.g. conformance/bench.sh 1 --idp-profile all
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
shift || true
cargo build --release --quiet -p conformance -p reference-rp
times=()
for i in $(seq "$runs"); do
  # Exit 1 is a verdict (the reference RP's known gaps with --idp-profile); 2 is a broken run.
  code=0
  out=$(target/release/conformance run --rp fixtures/rp/reference-rp.toml "$@" 2>&1) || code=$?
  if [ "$code" -ne 0 ] && { [ "$code" -ne 1 ] || [ $# -eq 0 ]; }; then
    echo "$out" | tail -20
    echo "run $i failed (exit $code)" >&2
    exit 1
  fi
  t=$(echo "$out" | sed -n 's/^wall time: \([0-9.]*\) s.*/\1/p')
  n=$(echo "$out" | sed -n 's/^\([0-9]*\) scenario runs:.*/\1/p')
  echo "run $i: $n scenarios in $t s"
  times+=("$t")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print "median wall time: " a[int((NR+1)/2)] " s"}'
