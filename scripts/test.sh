#!/usr/bin/env bash
# The project's whole test run: type check, lint, unit tests, then the
# integration tests: the render loop through the real crossplane CLI and the
# real gRPC server, and the hydrator against real servers.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
ensure_node
install_deps
log "type check"; npx tsc --noEmit -p tsconfig.json
log "lint"; npx eslint .
log "unit tests"; npx vitest run --project unit
# Render tests must fail loudly, never pass silently, if the CLI is missing.
ensure_crank || { log "the crossplane CLI could not be built: the render tests cannot run"; exit 1; }
export FMC_CRANK="$(command -v crank)"
log "integration tests (crank $(cat "$TOOLS_BIN/crank.version" 2>/dev/null || echo '?'))"
npx vitest run --project integration
