#!/usr/bin/env bash
# The one command for the hydrator's HTTP benchmark (see docs/benchmarks.md,
# "Hydrator: HTTP, machine limits and memory"): throughput against nginx next
# to curl and the machine's disk-write and SHA-256 limits, then peak RSS while
# fetching one large file.
# FMC_BENCH_FILES (4), FMC_BENCH_FILE_MB (256), FMC_BENCH_ROUNDS (5),
# FMC_BENCH_BIG_MB (10240; 0 skips the large file), FMC_BENCH_DIR (the temp dir).
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$ROOT"
ensure_node
exec node bench/hydrator/http.ts
