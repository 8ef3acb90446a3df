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
  command -v apt-get >/dev/null 2>&1 || { log "nginx is missing and apt-get is not available to install it"; exit 1; }
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "installing nginx from Debian's packages (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update >&2 || { log "apt-get update failed"; exit 1; }
  # nginx-common's postinst tries to start the service; with no init system
  # that fails harmlessly, so only the binary's presence decides success.
  $SUDO apt-get install -y --no-install-recommends nginx >&2 || true
  bin="$(find_nginx)"
  [ -n "$bin" ] || { log "apt-get could not install nginx"; exit 1; }
fi
"$bin" -v >&2 2>&1 || { log "$bin does not run"; exit 1; }
echo "$bin"
