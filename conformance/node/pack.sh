#!/usr/bin/env bash
# Packs the npm packages from this checkout into target/npm/: `sso-harness` (the helper and
# the launchers) and `@sso-harness/<platform>-<arch>` (this machine's mock-idp and
# conformance, stripped). `pack.sh` builds them with --release; `pack.sh dev` with the
# dev profile (the tests' build, reused). Install both tarballs from the files:
#   npm install target/npm/sso-harness-*.tgz target/npm/sso-harness-linux-x64-*.tgz
set -euo pipefail
cd "$(dirname "$0")/../.."
profile="${1:-release}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  Linux-aarch64) platform=linux-arm64 ;;
  Darwin-arm64) platform=darwin-arm64 ;;
  Darwin-x86_64) platform=darwin-x64 ;;
  *) echo "pack.sh: no npm platform name for $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac
cargo build --quiet --profile "$profile" -p conformance --features wheel --bins
dir=target/$([ "$profile" = dev ] && echo debug || echo "$profile")
version=$(node -p 'require("./conformance/node/package.json").version')
out=target/npm
stage=$out/$platform
rm -rf "$stage" && mkdir -p "$stage/bin"
for b in mock-idp conformance; do
  cp "$dir/$b" "$stage/bin/$b"
  strip "$stage/bin/$b" 2>/dev/null || true
done
os=${platform%-*}; cpu=${platform#*-}
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
rm -f "$out"/*.tgz
(cd "$stage" && npm pack --quiet --pack-destination ..) >/dev/null
(cd conformance/node && npm pack --quiet --pack-destination "../../$out") >/dev/null
ls "$out"/*.tgz
