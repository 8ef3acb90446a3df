#!/usr/bin/env bash
# build.sh: the service benchmark's tools, built once into the tool cache and
# printed as two lines, `ghz <path>` and `passthrough <path>`:
#   - ghz, the gRPC load tool, from the Go module proxy at one pinned version;
#   - the pass-through function of bench/service/passthrough (function-sdk-go),
#     rebuilt when its sources change.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

GHZ_VERSION="${FMC_GHZ_VERSION:-v0.120.0}"
if [ ! -x "$TOOLS_BIN/ghz" ] || [ "$(cat "$TOOLS_BIN/ghz.version" 2>/dev/null)" != "$GHZ_VERSION" ]; then
  go_build_pinned ghz github.com/bojand/ghz "$GHZ_VERSION" github.com/bojand/ghz/cmd/ghz "$TOOLS_BIN/ghz" ||
    { log "ghz $GHZ_VERSION could not be built"; exit 1; }
  echo "$GHZ_VERSION" >"$TOOLS_BIN/ghz.version"
fi

src="$ROOT/bench/service/passthrough"
sum="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
out="$CACHE/bench/passthrough-$sum"
if [ ! -x "$out" ]; then
  command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build the pass-through function (install Go 1.24 or newer)"; exit 1; }
  mkdir -p "$CACHE/bench"
  step "bench-passthrough" "the function-sdk-go pass-through function: downloading and building" \
    bash -c 'cd "$1" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$2.tmp" . && mv "$2.tmp" "$2"' _ "$src" "$out" ||
    exit 1
fi
echo "ghz $TOOLS_BIN/ghz"
echo "passthrough $out"
