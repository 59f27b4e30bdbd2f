#!/usr/bin/env bash
# Build MicroPython's unix port with the NimBLE Bluetooth host (the stack the ESP32 port uses),
# twice: 64-bit (build-standard) and 32-bit x86, the chip's word size (build-x86, static).
#   tools/mpble/build.sh OUT_DIR
# Source: the unmodified subset in ../shared/vendor when it is there (the developers' and CI's
# machines); otherwise a clone of the same two commits (needs git and the network).
set -euo pipefail
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MP_COMMIT=1c3c201149f37fe8d81246191b3127bb198d6306
NIMBLE_COMMIT=42849560ba7906f023f61e5f7ff3709ba2c1dfca
TARBALL="$ROOT/../shared/vendor/micropython-nimble-1c3c201.tar.gz"
FLAGS=(MICROPY_PY_BLUETOOTH=1 MICROPY_BLUETOOTH_NIMBLE=1 MICROPY_BLUETOOTH_BTSTACK=0
       MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 MICROPY_PY_FFI=0 FROZEN_MANIFEST=)

if [ ! -f "$OUT/.source" ]; then
    rm -rf "$OUT"
    mkdir -p "$OUT"
    if [ -f "$TARBALL" ]; then
        tar xzf "$TARBALL" -C "$OUT" --strip-components=1
    elif command -v git >/dev/null; then
        echo "mpble: $TARBALL not found; cloning MicroPython $MP_COMMIT and NimBLE $NIMBLE_COMMIT"
        git clone -q https://github.com/micropython/micropython "$OUT"
        git -C "$OUT" checkout -q "$MP_COMMIT"
        git -C "$OUT" submodule update -q --init lib/mynewt-nimble
        git -C "$OUT/lib/mynewt-nimble" checkout -q "$NIMBLE_COMMIT"
    else
        echo "mpble: needs ../shared/vendor/micropython-nimble-1c3c201.tar.gz or git to get" \
             "MicroPython's source; the real-stack tests cannot run without it" >&2
        exit 1
    fi
    touch "$OUT/.source"
fi

make -s -C "$OUT/ports/unix" -j2 "${FLAGS[@]}" >"$OUT/build-standard.log" 2>&1 \
    || { tail -30 "$OUT/build-standard.log"; exit 1; }

if ! command -v i686-linux-gnu-gcc >/dev/null; then
    apt-get install -y -q gcc-i686-linux-gnu >/dev/null \
        || (apt-get update -q >/dev/null && apt-get install -y -q gcc-i686-linux-gnu >/dev/null)
fi
# static: the machine need not have a 32-bit loader and libc installed to run it
make -s -C "$OUT/ports/unix" -j2 BUILD=build-x86 CROSS_COMPILE=i686-linux-gnu- \
    LDFLAGS_EXTRA=-static "${FLAGS[@]}" >"$OUT/build-x86.log" 2>&1 \
    || { tail -30 "$OUT/build-x86.log"; exit 1; }
echo "mpble: $OUT/ports/unix/build-standard/micropython and build-x86/micropython"
