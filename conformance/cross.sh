# Sourced by the release scripts (conformance/node/pack.sh, conformance/wheels.sh): what
# building for another platform takes — the npm platform name of a Rust target, the C cross
# compiler and linker its build needs (aws-lc-rs builds C), its strip, and a smoke run of a
# built binary where this machine can run it (natively, under qemu, under wine).

# The npm platform name of a target triple (empty: this machine's).
platform_of() {
  case "$1" in
    x86_64-unknown-linux-gnu) echo linux-x64 ;;
    aarch64-unknown-linux-gnu) echo linux-arm64 ;;
    x86_64-pc-windows-gnu) echo win32-x64 ;;
    aarch64-apple-darwin) echo darwin-arm64 ;;
    x86_64-apple-darwin) echo darwin-x64 ;;
    "")
      case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) echo linux-x64 ;;
        Linux-aarch64) echo linux-arm64 ;;
        Darwin-arm64) echo darwin-arm64 ;;
        Darwin-x86_64) echo darwin-x64 ;;
        *) echo "${0##*/}: no npm platform name for $(uname -s)-$(uname -m)" >&2; return 2 ;;
      esac ;;
    *) echo "${0##*/}: no npm platform for target $1 (see the list at the top of conformance/node/pack.sh)" >&2; return 2 ;;
  esac
}

# The C cross compiler a target's build needs (aws-lc-rs builds C), and its linker.
cross_env() {
  local gcc=""
  case "$1" in
    aarch64-unknown-linux-gnu) gcc=aarch64-linux-gnu-gcc; pkg=gcc-aarch64-linux-gnu ;;
    x86_64-pc-windows-gnu) gcc=x86_64-w64-mingw32-gcc; pkg=gcc-mingw-w64-x86-64 ;;
    *) return 0 ;;
  esac
  if ! command -v "$gcc" >/dev/null; then
    echo "${0##*/}: $1 needs the C cross compiler $gcc (Debian: apt-get install $pkg)" >&2
    return 2
  fi
  local up
  up=$(echo "$1" | tr 'a-z-' 'A-Z_')
  export "CARGO_TARGET_${up}_LINKER=$gcc" "CC_${1//-/_}=$gcc"
}

# The strip of a target's binaries (the cross binutils' for another architecture).
strip_for() {
  case "$1" in
    aarch64-unknown-linux-gnu) [ "$(uname -m)" = aarch64 ] && echo strip || echo aarch64-linux-gnu-strip ;;
    x86_64-pc-windows-gnu) echo x86_64-w64-mingw32-strip ;;
    *) echo strip ;;
  esac
}

# Runs the packed binaries where this machine can — natively, the arm64 ones under qemu, the
# Windows ones under wine — and says so when it cannot: conformance lists its catalogue,
# mock-idp serves its demo tenant on a loopback port until its discovery document answers.
smoke() {
  local platform=$1 bin=$2 run=()
  case "$platform" in
    linux-arm64)
      if [ "$(uname -m)" = aarch64 ]; then run=()
      elif command -v qemu-aarch64 >/dev/null; then run=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
      else echo "${0##*/}: $bin not run (no qemu-aarch64: apt-get install qemu-user)" >&2; return 0; fi ;;
    win32-x64)
      if ! command -v wine >/dev/null; then
        echo "${0##*/}: $bin not run (no wine here)" >&2; return 0
      fi
      # Rust's Windows runtime needs bcryptprimitives.dll, which Wine has from 9.0 on.
      local said
      said=$(wine "$bin" --help 2>&1 || true)
      if grep -q 'bcryptprimitives.dll' <<<"$said"; then
        echo "${0##*/}: $bin not run (this wine lacks bcryptprimitives.dll: Wine 9 or Windows needed)" >&2
        return 0
      fi
      run=(wine) ;;
    *)
      if [ "$platform" != "$(platform_of "")" ]; then
        echo "${0##*/}: $bin not run (another platform)" >&2; return 0
      fi ;;
  esac
  case "${bin##*/}" in
    *conformance*) "${run[@]}" "$bin" list >/dev/null ;;
    *)
      local log issuer pid
      log=$(mktemp)
      "${run[@]}" "$bin" serve --addr 127.0.0.1:0 >"$log" 2>&1 &
      pid=$!
      for _ in $(seq 100); do grep -q '^mock-idp ready' "$log" && break; sleep 0.2; done
      issuer=$(grep -o 'issuer=[^ ]*' "$log" | cut -d= -f2)
      local ok=0
      [ -n "$issuer" ] && curl -fsS "$issuer/.well-known/openid-configuration" | grep -q '"issuer"' && ok=1
      kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
      rm -f "$log"
      [ "$ok" = 1 ] || { echo "${0##*/}: $bin did not serve its discovery document" >&2; return 1; }
      ;;
  esac
  echo "${0##*/}: $bin runs" >&2
}

