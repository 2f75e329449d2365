#!/bin/sh
# A self-signed certificate for localhost and 127.0.0.1, no CA: DIR/cert.pem (which clients
# also trust as their ca_file) and DIR/key.pem.  Quiet on success; openssl's words on failure.
#
#   tests/integration/peers/mkcert.sh DIR
set -eu
if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
mkdir -p "$dir"
err=$(openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>&1) || {
	printf '%s\n' "$err" >&2
	exit 1
}
