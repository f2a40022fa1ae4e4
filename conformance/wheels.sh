#!/usr/bin/env bash
# Builds the release's wheels into target/wheels/ with maturin (`pip install
# maturin==1.16.0`): this machine's, or one per Rust target triple given, e.g.
#   conformance/wheels.sh                              this machine's (linux x86_64 here)
#   conformance/wheels.sh aarch64-unknown-linux-gnu    Linux arm64 (Debian: gcc-aarch64-linux-gnu,
#                                                      rustup target add aarch64-unknown-linux-gnu)
# Each wheel's two commands are run where this machine can (natively, under qemu-aarch64 with
# qemu-user): `conformance list`, and `mock-idp serve` until its discovery document answers;
# the script says which it could not run. The targets and their tools: conformance/cross.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source conformance/cross.sh
command -v maturin >/dev/null || { echo "wheels.sh: needs maturin (pip install maturin==1.16.0)" >&2; exit 2; }
out=$PWD/target/wheels
mkdir -p "$out"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("")

for target in "${targets[@]}"; do
  platform=$(platform_of "$target")
  built=$(mktemp -d)
  args=(build --release --quiet -o "$built")
  [ -n "$target" ] && args+=(--target "$target")
  (cross_env "$target" && cd conformance && maturin "${args[@]}")
  wheel=$(ls "$built"/*.whl)
  # The commands as pip installs them: the wheel's scripts.
  unpacked=$(mktemp -d)
  python3 -m zipfile -e "$wheel" "$unpacked"
  for b in mock-idp conformance; do
    bin=$(ls "$unpacked"/*.data/scripts/"$b"*)
    chmod +x "$bin"
    smoke "$platform" "$bin"
  done
  mv "$wheel" "$out/"
  rm -rf "$built" "$unpacked"
  echo "$out/$(basename "$wheel")"
done
