#!/usr/bin/env bash
# The project's whole test run: type check, lint, unit tests, then the
# integration tests (the render loop through the real crossplane CLI and the
# real gRPC server, the hydrator against real servers), then the live suite
# (a real control plane: scripts/live/). The live control plane's programs
# build in the background, at low priority, while the other tests run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
ensure_node
install_deps

LIVE=1
if [ -n "${FMC_SKIP_LIVE:-}" ]; then
  LIVE=0; log "SKIPPING the live suite: FMC_SKIP_LIVE is set"
elif [ "$(id -u)" != 0 ]; then
  LIVE=0; log "SKIPPING the live suite: it plays the cluster's node with mount namespaces and needs root (run npm run test:live as root)"
fi
if [ "$LIVE" = 1 ]; then
  mkdir -p "$CACHE/live"
  ( nice -n 10 bash scripts/live/build.sh >"$CACHE/live/build.log" 2>&1 ) &
  BUILD_PID=$!
  log "building the live control plane in the background (log: $CACHE/live/build.log)"
fi

log "type check"; npx tsc --noEmit -p tsconfig.json
log "lint"; npm run --silent lint
log "unit tests"; npx vitest run --project unit
# Render tests must fail loudly, never pass silently, if the CLI is missing.
ensure_crank || { log "the crossplane CLI could not be built: the render tests cannot run"; exit 1; }
export FMC_CRANK="$(command -v crank)"
log "integration tests (crank $(cat "$TOOLS_BIN/crank.version" 2>/dev/null || echo '?'))"
npx vitest run --project integration

if [ "$LIVE" = 1 ]; then
  log "waiting for the live control plane's build"
  wait "$BUILD_PID" || { tail -50 "$CACHE/live/build.log" >&2; log "the live control plane could not be built"; exit 1; }
  bash scripts/live/test.sh
fi
