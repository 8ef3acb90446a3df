#!/usr/bin/env bash
# ensure-nginx.sh: make nginx from Debian's packages available and print the
# path of its binary. The hydrator's HTTP tests and benchmark serve files with
# it (static files, byte ranges, limit_rate): the real server users point the
# http(s):// source at, not a stand-in. Installs with apt-get when missing
# (CI starts on a clean machine); prints nothing and exits non-zero, with the
# reason on stderr, when it cannot.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

find_nginx() {
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

bin="$(find_nginx)"
if [ -z "$bin" ]; then
  # nginx-common's postinst tries to start the service; with no init system
  # that fails harmlessly, so only the binary's presence decides success.
  apt_install nginx || true
  bin="$(find_nginx)"
  [ -n "$bin" ] || { log "nginx could not be installed (apt-get, Debian's nginx package)"; exit 1; }
fi
"$bin" -v >&2 2>&1 || { log "$bin does not run"; exit 1; }
echo "$bin"
