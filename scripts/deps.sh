#!/bin/sh
# Install the Debian packages lb needs to build, test and bench, if any is missing.
# Called by `make`, `make run` and `make test`; safe to run again (it only checks then).
set -e
pkgs="gcc make pkg-config libevent-dev libjansson-dev libyaml-dev zlib1g-dev libssl-dev libpcre2-dev openssl node-llhttp python3 nodejs npm wrk nginx-light haproxy curl libnghttp2-dev nghttp2-client nghttp2-server libarchive-dev bubblewrap busybox-static"
[ "$LB_DEPS_EXTRA" ] && pkgs="$pkgs $LB_DEPS_EXTRA"
missing=""
for p in $pkgs; do
	case "$p" in
	# Node and npm may come from elsewhere than Debian (nodesource): a working binary is enough.
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	python3) command -v python3 >/dev/null 2>&1 && continue ;;
	esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	echo "deps: installing$missing" >&2
	sudo apt-get update -qq
	sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run: sudo apt-get install$missing" >&2
	exit 1
fi
