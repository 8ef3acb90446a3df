#!/usr/bin/env bash
# The project's whole test run: type check, lint, unit tests, then the render
# loop through the real crossplane CLI and the real gRPC server.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
ensure_node
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc --noEmit -p tsconfig.json
npx eslint .
# Render tests must fail loudly, never pass silently, if the CLI is missing.
ensure_crank || { log "the crossplane CLI could not be installed: render tests cannot run"; exit 1; }
export FMC_CRANK="$(command -v crank)"
npx vitest run
