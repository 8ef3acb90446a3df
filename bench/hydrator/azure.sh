#!/usr/bin/env bash
# The one command for the Azure Blob hydrator benchmark (see docs/benchmarks.md).
# FMC_BENCH_FILES (4), FMC_BENCH_FILE_MB (256), FMC_BENCH_ROUNDS (3).
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$ROOT"
ensure_node
exec node bench/hydrator/azure.ts
