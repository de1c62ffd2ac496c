#!/usr/bin/env bash
# Makes a development certificate authority and a server certificate signed by it, for
# TokenBridge and legacy-topdesk on this machine. Nothing here is fit for production: see
# certs/README.md for bringing real certificates.
#
# Usage: certs/make-dev-certs.sh [OUTPUT_DIR] [EXTRA_DNS_NAME...]
# Writes OUTPUT_DIR/dev-ca.pem, dev-ca.key, server.pem (certificate then CA) and server.key.
# Existing files are kept, so running it twice is harmless; delete them to start over.
set -euo pipefail

out=${1:-"$(cd "$(dirname "$0")" && pwd)"}
shift || true
mkdir -p "$out"
cd "$out"

if [[ -s server.pem && -s server.key && -s dev-ca.pem ]]; then
    echo "certificates already present in $out"
    exit 0
fi

umask 077
names="DNS:localhost,IP:127.0.0.1,IP:::1"
for extra in "$@"; do names="$names,DNS:$extra"; done

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout dev-ca.key -out dev-ca.pem -days 825 -sha256 \
    -subj "/CN=TokenBridge development CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null

cat > server.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$names
EXT

openssl x509 -req -in server.csr -CA dev-ca.pem -CAkey dev-ca.key -CAcreateserial \
    -out server-only.pem -days 397 -sha256 -extfile server.ext 2>/dev/null
cat server-only.pem dev-ca.pem > server.pem
rm -f server.csr server.ext server-only.pem dev-ca.srl
chmod 644 dev-ca.pem server.pem
echo "wrote $out/server.pem, $out/server.key and $out/dev-ca.pem (trust this CA in clients)"
