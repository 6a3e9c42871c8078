#!/bin/sh
# Install the Debian packages postern needs, only those missing.  Quiet when
# everything is there.  A fresh machine has empty package lists, so an
# install is always preceded by apt-get update.
set -eu

# dovecot-imapd and openssl: the integration tests start their own
# Dovecot on 127.0.0.1 and make a throwaway CA; nothing runs as a service.
PKGS="gcc make pkg-config libc6-dev clang libssl-dev libmagic-dev libmagic-mgc
libcmocka-dev zlib1g-dev libncurses-dev libreadline-dev python3 tmux
dovecot-imapd openssl procps mblaze mutt neomutt"
[ "${1:-}" = bench ] && PKGS="$PKGS libgmime-3.0-dev hyperfine time mutt mblaze neomutt"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages and not root; run as root: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
