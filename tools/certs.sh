#!/usr/bin/env bash
# Certificates for `mysqlclone local --to` / `mysqlclone receive` (mutual TLS), made with the
# openssl command line: what the tests use, and a model for an operator's own.
#
#   tools/certs.sh DIR [RECEIVER_SAN]
#
# DIR gets (PEM; keys 0600):
#   ca.pem ca.key                    a test CA
#   receiver.pem receiver.key        signed by it; SAN RECEIVER_SAN (default IP:127.0.0.1,DNS:localhost)
#   sender.pem sender.key            signed by it (a client certificate)
#   other-ca.pem other-ca.key        a second CA that signed nothing above
#   stranger.pem stranger.key        signed by other-ca, SAN IP:127.0.0.1: a peer nobody trusts
set -euo pipefail

dir=${1:?usage: certs.sh DIR [RECEIVER_SAN]}
san=${2:-IP:127.0.0.1,DNS:localhost}
mkdir -p "$dir"
cd "$dir"
umask 077

ca() {  # NAME SUBJECT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=$2" -keyout "$1.key" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

leaf() {  # NAME CN SAN EXTENDED_KEY_USAGE CA
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$5.pem" -CAkey "$5.key" -CAcreateserial -days 825 -out "$1.pem" \
    -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$4" "$3") \
    2>/dev/null
  rm -f "$1.csr"
}

ca ca "mysqlclone test CA"
ca other-ca "another CA"
leaf receiver "mysqlclone receiver" "$san" serverAuth ca
leaf sender "mysqlclone sender" "DNS:sender" clientAuth ca
leaf stranger "a stranger" "IP:127.0.0.1,DNS:localhost" "serverAuth,clientAuth" other-ca
chmod 0644 ./*.pem
