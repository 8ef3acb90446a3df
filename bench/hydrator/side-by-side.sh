#!/usr/bin/env bash
# The one command for the hydrator's side-by-side benchmark (docs/benchmarks.md, "Hydrator: side by side"):
# HTTP, S3, OCI and the hub stand-in against curl, s5cmd, oras and huggingface_hub, next to the machine's limits.
# Knobs: see the header of bench/hydrator/side-by-side.ts (FMC_BENCH_SECTIONS, FMC_BENCH_BIG_MB, FMC_BENCH_MANY, ...).
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$ROOT"
ensure_node
exec node bench/hydrator/side-by-side.ts
