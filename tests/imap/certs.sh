#!/bin/sh
# certs.sh DIR - throwaway certificates for the TLS tests, made with openssl.
#
#   ca.pem ca.key                a private CA (what --cafile trusts)
#   server.pem server.key        CA-signed, for localhost, 127.0.0.1, ::1
#   wronghost.pem wronghost.key  CA-signed, for other.example only
#   expired.pem expired.key      CA-signed, for 127.0.0.1/localhost, expired
#                                on 2020-01-02
#   selfsigned.pem selfsigned.key  self-signed, for 127.0.0.1/localhost
#   client.pem client.key        CA-signed client certificate (EXTERNAL),
#                                CN=postern-test
#   server-chain.pem             server.pem followed by ca.pem
#
# EC P-256 keys, because RSA key generation would dominate the test run.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
command -v openssl >/dev/null || { echo "$0: openssl not found" >&2; exit 1; }
dir=$1
mkdir -p "$dir"
cd "$dir"

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1.key" 2>/dev/null
}

# ext NAME SAN EKU: the extension file for one leaf certificate.
ext() {
	cat >"$1.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = $3
subjectAltName = $2
EOF
}

# leaf NAME CN SAN EKU: a certificate signed by the CA, valid 10 days.
leaf() {
	key "$1"
	ext "$1" "$3" "$4"
	openssl req -new -key "$1.key" -subj "/O=postern tests/CN=$2" \
		-out "$1.csr" 2>/dev/null
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -days 10 -extfile "$1.ext" -out "$1.pem" \
		2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

local_san="DNS:localhost, IP:127.0.0.1, IP:::1"

key ca
openssl req -x509 -new -key ca.key -days 30 -subj "/O=postern tests/CN=postern test CA" \
	-addext "basicConstraints = critical, CA:TRUE" \
	-addext "keyUsage = critical, keyCertSign, cRLSign" \
	-out ca.pem 2>/dev/null

leaf server localhost "$local_san" serverAuth
leaf wronghost other.example "DNS:other.example" serverAuth
leaf client postern-test "email:test@localhost" clientAuth
cat server.pem ca.pem >server-chain.pem

key selfsigned
openssl req -x509 -new -key selfsigned.key -days 10 \
	-subj "/O=postern tests/CN=localhost" \
	-addext "subjectAltName = $local_san" -out selfsigned.pem 2>/dev/null

# An expired certificate needs dates in the past, which only `openssl ca`
# accepts (x509 -req cannot backdate in OpenSSL 3.0).
key expired
openssl req -new -key expired.key -subj "/O=postern tests/CN=localhost" \
	-out expired.csr 2>/dev/null
mkdir -p ca.db
: >ca.db/index.txt
echo 1000 >ca.db/serial
cat >ca.db/ca.cnf <<EOF
[ca]
default_ca = test
[test]
database = ca.db/index.txt
serial = ca.db/serial
new_certs_dir = ca.db
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
x509_extensions = leaf
[any]
organizationName = optional
commonName = supplied
[leaf]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = $local_san
EOF
openssl ca -batch -config ca.db/ca.cnf -cert ca.pem -keyfile ca.key \
	-startdate 20200101000000Z -enddate 20200102000000Z -notext \
	-in expired.csr -out expired.pem 2>/dev/null
rm -rf expired.csr ca.db ca.srl
