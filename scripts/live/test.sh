#!/usr/bin/env bash
# The live suite: bring the live control plane up (building what is missing,
# cached by version), run test/live against it, and stop it again (keep it
# running with FMC_LIVE_KEEP=1 to look around afterwards).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT"
ensure_node
install_deps
[ "$(id -u)" = 0 ] || { log "the live suite plays the node with mount namespaces (unshare --mount) and needs root"; exit 1; }
for tool in openssl unshare mount; do
  command -v "$tool" >/dev/null 2>&1 || { log "the live suite needs $tool"; exit 1; }
done
CP="$ROOT/scripts/live/control-plane.sh"
# A previous run's state would carry its objects over: start clean.
bash "$CP" clean
trap '[ -n "${FMC_LIVE_KEEP:-}" ] || bash "$CP" down' EXIT
bash "$CP" up
set -a
eval "$(bash "$CP" env)"
set +a
log "live suite"
npx vitest run --project live "$@"
