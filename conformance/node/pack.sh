#!/usr/bin/env bash
# Packs the npm packages from this checkout into target/npm/: `sso-harness` (the helper and
# the launchers) and one `@sso-harness/<platform>-<arch>` per platform (mock-idp and
# conformance, stripped).
#
#   pack.sh [PROFILE] [TARGET...]
#
# PROFILE: release (the default) or dev (the tests' build, reused). TARGET: Rust target
# triples to cross-build, each into its platform package; none: this machine's platform.
#   x86_64-unknown-linux-gnu   linux-x64
#   aarch64-unknown-linux-gnu  linux-arm64  (Debian: gcc-aarch64-linux-gnu; smoke-run under
#                                            qemu-aarch64 when qemu-user is installed)
#   x86_64-pc-windows-gnu      win32-x64    (Debian: gcc-mingw-w64-x86-64; smoke-run under
#                                            Wine 9 or later; not yet one of the helper's
#                                            optional dependencies: never run here)
#   aarch64-apple-darwin, x86_64-apple-darwin: darwin-arm64, darwin-x64 (on a Mac only)
# The release's packages: pack.sh release x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu
# Install the helper's tarball and your platform's from the files:
#   npm install target/npm/sso-harness-*.tgz target/npm/sso-harness-linux-x64-*.tgz
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=release
if [ $# -gt 0 ] && [ "${1#*-}" = "$1" ]; then profile="$1"; shift; fi
targets=("$@")
version=$(node -p 'require("./conformance/node/package.json").version')
out=target/npm
mkdir -p "$out"
rm -f "$out"/*.tgz

# The targets, their cross compilers, strip and smoke run: shared with the wheels.
source conformance/cross.sh

# Builds and packs one platform package.
pack_platform() {
  local target=$1 platform dir exe=""
  platform=$(platform_of "$target")
  if [ -z "$target" ]; then
    cargo build --quiet --profile "$profile" -p conformance --features wheel --bins
    dir=target/$([ "$profile" = dev ] && echo debug || echo "$profile")
  else
    (cross_env "$target" && cargo build --quiet --profile "$profile" --target "$target" -p conformance --features wheel --bins)
    dir=target/$target/$([ "$profile" = dev ] && echo debug || echo "$profile")
  fi
  [ "$platform" = win32-x64 ] && exe=.exe
  local stage=$out/$platform
  rm -rf "$stage" && mkdir -p "$stage/bin"
  for b in mock-idp conformance; do
    cp "$dir/$b$exe" "$stage/bin/$b$exe"
    "$(strip_for "$target")" "$stage/bin/$b$exe" 2>/dev/null || true
    smoke "$platform" "$stage/bin/$b$exe"
  done
  local os=${platform%-*} cpu=${platform#*-}
  cat > "$stage/package.json" <<JSON
{
  "name": "@sso-harness/$platform",
  "version": "$version",
  "description": "The mock-idp and conformance binaries of sso-harness for $platform",
  "license": "MIT OR Apache-2.0",
  "os": ["$os"],
  "cpu": ["$cpu"],
  "files": ["bin/"]
}
JSON
  (cd "$stage" && npm pack --quiet --pack-destination ..) >/dev/null
}

if [ ${#targets[@]} -eq 0 ]; then
  pack_platform ""
else
  for t in "${targets[@]}"; do pack_platform "$t"; done
fi
(cd conformance/node && npm pack --quiet --pack-destination "../../$out") >/dev/null
ls "$out"/*.tgz
