#!/usr/bin/env bash
# Regenerate the expected render output of every example (or those named).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
ensure_node
ensure_crank
FMC_CRANK="$(command -v crank)" node scripts/update-expected.ts "$@"
