#!/usr/bin/env bash
# Capsule seal/open throughput per cipher suite next to `openssl speed` for the same primitives.
#
# Usage: scripts/bench-crypto.sh [build-dir]      (default: build-bench, Release)
#
# Builds only cyphonic_bench_crypto, runs it (Google Benchmark, --benchmark_min_time=0.3), runs
# `openssl speed -evp` at 1400 bytes for AES-256-GCM, ChaCha20-Poly1305, AES-256-CBC and MD5,
# and prints one table. MB/s are 10^6 bytes of Capsule payload per second. The openssl column
# is the cipher underlying the suite at 1400 bytes; for 0x0001 it is CBC and MD5 combined,
# 1/(1/cbc + 1/md5). Ratio = openssl / ours (below 1: ours is faster).
#
# What `openssl speed -evp` measures (OpenSSL 3.0.16 and later): for GCM one whole message per
# iteration (IV, key set-up, data, tag); for ChaCha20-Poly1305 and AES-256-CBC a running stream
# (one EVP_EncryptUpdate per iteration, no per-message IV, AAD or tag); for MD5 one digest per
# buffer. A sealed message always pays the per-message part, so stream figures are a floor no
# per-message implementation reaches. Figures, not a pass/fail check (STYLE.md §8).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-build-bench}"
case "$build" in
    /*) ;;
    *) build="$root/$build" ;;
esac
seconds=2
bytes=1400

echo "bench-crypto: configuring and building cyphonic_bench_crypto in $build (Release)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" cyphonic_bench_crypto >/dev/null

json="$(mktemp)"
trap 'rm -f "$json"' EXIT

echo "bench-crypto: running cyphonic_bench_crypto"
"$build/tests/bench/cyphonic_bench_crypto" --benchmark_min_time=0.3 \
    --benchmark_out="$json" --benchmark_out_format=json

# bytes/s of one `openssl speed` run: its last line ends in "<1000s of bytes per second>k".
openssl_speed() {
    openssl speed -evp "$1" -bytes "$bytes" -seconds "$seconds" 2>/dev/null |
        awk 'END { v = $NF; sub(/k$/, "", v); printf "%.0f\n", v * 1000 }'
}

echo "bench-crypto: running openssl speed -evp at $bytes bytes, ${seconds}s each"
gcm=$(openssl_speed aes-256-gcm)
chacha=$(openssl_speed chacha20-poly1305)
cbc=$(openssl_speed aes-256-cbc)
md5=$(openssl_speed md5)
openssl version

echo
echo "openssl speed -evp, $bytes bytes (MB/s): aes-256-gcm $((gcm / 1000000))" \
    "chacha20-poly1305 $((chacha / 1000000)) aes-256-cbc $((cbc / 1000000)) md5 $((md5 / 1000000))"
echo

# Google Benchmark JSON has one key per line; names are Seal|Open/<suite>/<payload bytes>.
awk -v gcm="$gcm" -v chacha="$chacha" -v cbc="$cbc" -v md5="$md5" -v ref_size="$bytes" '
    /"name":/ {
        name = $0
        sub(/.*"name": "/, "", name)
        sub(/".*/, "", name)
    }
    /"bytes_per_second":/ {
        v = $0
        sub(/.*"bytes_per_second": /, "", v)
        sub(/,.*/, "", v)
        split(name, part, "/")
        key = part[2] "/" part[3]
        rate[part[1], key] = v + 0
        if (!(key in seen)) {
            seen[key] = 1
            order[++n] = key
        }
    }
    END {
        ref["AesCbcHmacMd5"] = 1 / (1 / cbc + 1 / md5)
        ref["Aes256Gcm"] = gcm
        ref["ChaCha20Poly1305"] = chacha
        label["AesCbcHmacMd5"] = "0x0001 AES-256-CBC+HMAC-MD5"
        label["Aes256Gcm"] = "0x0002 AES-256-GCM"
        label["ChaCha20Poly1305"] = "0x0003 ChaCha20-Poly1305"
        printf "%-30s %6s %10s %10s %12s %11s %11s\n", "suite", "size", "seal MB/s", \
               "open MB/s", "openssl MB/s", "ratio seal", "ratio open"
        for (i = 1; i <= n; i++) {
            split(order[i], part, "/")
            suite = part[1]
            size = part[2]
            seal = rate["Seal", order[i]] / 1e6
            open = rate["Open", order[i]] / 1e6
            r = ref[suite] / 1e6
            if (size == ref_size && seal > 0 && open > 0) {
                printf "%-30s %6s %10.0f %10.0f %12.0f %11.2f %11.2f\n", label[suite], size, \
                       seal, open, r, r / seal, r / open
            } else {
                printf "%-30s %6s %10.0f %10.0f %12s %11s %11s\n", label[suite], size, seal, \
                       open, "-", "-", "-"
            }
        }
    }' "$json"
