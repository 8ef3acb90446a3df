#!/usr/bin/env bash
# Set up a fresh machine and run the main job end to end: start the function,
# render an example ModelCache with the real crossplane CLI, print the result.
#   bash scripts/demo.sh [example]     (examples/<example>/, default below)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
EXAMPLE="${1:-fleet-cel-h100}"
[ -f "examples/$EXAMPLE/xr.yaml" ] || { log "no example examples/$EXAMPLE (try: $(ls examples | tr '\n' ' '))"; exit 2; }
ensure_node
install_deps
ensure_crank
PORT="${PORT:-9443}"
node bin/function-model-cache.js serve --insecure --address "127.0.0.1:$PORT" >"${TMPDIR:-/tmp}/function-model-cache.log" 2>&1 &
FN=$!
trap 'kill $FN 2>/dev/null; wait $FN 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q '"msg":"serving"' "${TMPDIR:-/tmp}/function-model-cache.log" 2>/dev/null && break; sleep 0.2; done
log "rendering examples/$EXAMPLE through the function on 127.0.0.1:$PORT"
cd "examples/$EXAMPLE"
FUNCTIONS=functions.yaml
TARGET=(--function-annotations "render.crossplane.io/runtime-development-target=127.0.0.1:$PORT")
# A serving example runs the platform's own step first: a stand-in (test/support/platform-step) on its own port,
# each Function's target filled into a copy of functions.yaml.
if grep -q PLATFORM_STEP_PORT functions.yaml; then
  STEP_PORT="${STEP_PORT:-9444}"
  node "$ROOT/test/support/platform-step/server.ts" --insecure --address "127.0.0.1:$STEP_PORT" >"${TMPDIR:-/tmp}/platform-step.log" 2>&1 &
  STEP=$!
  trap 'kill $FN $STEP 2>/dev/null; wait $FN $STEP 2>/dev/null; rm -f "$FUNCTIONS"' EXIT
  for _ in $(seq 50); do grep -q '"msg":"serving"' "${TMPDIR:-/tmp}/platform-step.log" 2>/dev/null && break; sleep 0.2; done
  FUNCTIONS="$(mktemp)"
  sed -e "s/FUNCTION_MODEL_CACHE_PORT/$PORT/" -e "s/PLATFORM_STEP_PORT/$STEP_PORT/" functions.yaml >"$FUNCTIONS"
  TARGET=()
  log "examples/$EXAMPLE runs the platform's own step first: a stand-in on 127.0.0.1:$STEP_PORT (test/support/platform-step)"
fi
args=(render xr.yaml composition.yaml "$FUNCTIONS" --include-function-results "${TARGET[@]}")
[ -f observed.yaml ] && args+=(--observed-resources observed.yaml)
[ -f required.yaml ] && args+=(--required-resources required.yaml)
[ -f extra-args ] && while read -r a; do [[ -z "$a" || "$a" == \#* ]] || args+=("$a"); done <extra-args
# Some examples show a refusal: their expected.yaml starts with the exit code render gives, and why.
want_fail="$(sed -n '1s/^# crossplane render exited \([0-9]*\):$/\1/p' expected.yaml 2>/dev/null || true)"
if [ -n "$want_fail" ]; then
  log "examples/$EXAMPLE shows a refusal: crossplane render is meant to fail here (exit $want_fail) with a Fatal result that says why"
  rc=0; crank "${args[@]}" || rc=$?
  if [ "$rc" = "$want_fail" ]; then log "render failed as intended (exit $rc): the Fatal result above says why"; exit 0; fi
  log "render exited $rc, but examples/$EXAMPLE/expected.yaml expects exit $want_fail"; exit 1
fi
crank "${args[@]}"
