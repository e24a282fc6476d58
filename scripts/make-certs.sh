#!/usr/bin/env bash
# Creates a private CA and certificates for a CYPHONIC deployment or a test run:
#   DIR/ca.{key,crt}                    the root CA nodes and adapters trust
#   DIR/server.{key,crt}                AS server certificate (SAN: localhost, 127.0.0.1, ::1,
#                                       and every --san given)
#   DIR/client-<device-id>.{key,crt}    client certificates, CN = DeviceID (Auth Type 2)
# Usage: scripts/make-certs.sh DIR [--san DNS:as.example.net|IP:10.0.0.1]... [DEVICE-ID]...
# Existing files are kept, so it can run again to add a client.
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR [--san X]... [DEVICE-ID]...}
shift
sans="DNS:localhost,IP:127.0.0.1,IP:::1"
clients=()
while [ $# -gt 0 ]; do
    case "$1" in
    --san) sans="$sans,$2"; shift 2 ;;
    *) clients+=("$1"); shift ;;
    esac
done
mkdir -p "$dir"
cd "$dir"
days=825

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -f ca.crt ]; then
    key ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=CYPHONIC test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out ca.crt
fi
if [ ! -f server.crt ]; then
    key server.key
    openssl req -new -key server.key -subj "/CN=cyphonic-as" -out server.csr
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
        -days "$days" -out server.crt -extfile <(printf '%s\n' \
        "subjectAltName=$sans" "extendedKeyUsage=serverAuth" "basicConstraints=CA:FALSE") \
        2>/dev/null
    rm -f server.csr
fi
for id in "${clients[@]}"; do
    [ -f "client-$id.crt" ] && continue
    key "client-$id.key"
    openssl req -new -key "client-$id.key" -subj "/CN=$id" -out "client-$id.csr"
    openssl x509 -req -in "client-$id.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
        -days "$days" -out "client-$id.crt" -extfile <(printf '%s\n' \
        "extendedKeyUsage=clientAuth" "basicConstraints=CA:FALSE") 2>/dev/null
    rm -f "client-$id.csr"
done
chmod 600 ./*.key
