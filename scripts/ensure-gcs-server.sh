#!/usr/bin/env bash
# ensure-gcs-server.sh: make a real Google Cloud Storage emulator available.
#
#   ensure-gcs-server.sh                          print the binary's path (building it once)
#   ensure-gcs-server.sh serve PORT DIR [BACKEND] start it in the foreground on 127.0.0.1:PORT, plain HTTP:
#                                                 BACKEND memory (the default: bucket versioning works; DIR
#                                                 seeds it, one folder per bucket) or filesystem (objects are
#                                                 files under DIR, so a test can corrupt one at rest; no
#                                                 versioning)
#
# The emulator is fake-gcs-server (github.com/fsouza/fake-gcs-server), one
# static Go binary that implements the JSON API the gs:// source uses: object
# listing with pagination and versions=true, reads by generation, ranged
# downloads, md5Hash and crc32c, bucket versioning, and the upload paths the
# official @google-cloud/storage SDK writes fixtures through. No one here wrote
# it, and the SDK is the client-side check of what it holds.
#
# Built from the Go module proxy with `go install` into the project's tool
# cache, cached by version (bin/fake-gcs-server.version); rebuilt when the
# version changes. Where the proxy refuses `go install`'s version lookup, the
# pinned build of scripts/lib.sh builds the same version instead.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FAKE_GCS_VERSION="${FMC_FAKE_GCS_VERSION:-v1.56.1}"
BIN="$TOOLS_BIN/fake-gcs-server"

build() {
  command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build fake-gcs-server (install Go 1.24 or newer)"; return 1; }
  local gobin
  gobin="$(mktemp -d)"
  if step "fake-gcs-server-$FAKE_GCS_VERSION" "fake-gcs-server $FAKE_GCS_VERSION: go install from the Go module proxy" \
      env GOBIN="$gobin" GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
      go install -trimpath -ldflags=-s "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION"; then
    mv "$gobin/fake-gcs-server" "$BIN"
    rm -rf "$gobin"
    return 0
  fi
  rm -rf "$gobin"
  go_build_pinned fake-gcs-server github.com/fsouza/fake-gcs-server "$FAKE_GCS_VERSION" \
    github.com/fsouza/fake-gcs-server "$BIN"
}

if [ ! -x "$BIN" ] || [ "$(cat "$BIN.version" 2>/dev/null)" != "$FAKE_GCS_VERSION" ]; then
  build || { log "fake-gcs-server $FAKE_GCS_VERSION could not be built"; exit 1; }
  echo "$FAKE_GCS_VERSION" >"$BIN.version"
fi

case "${1:-}" in
  "")
    echo "$BIN"
    ;;
  serve)
    [ "$#" -eq 3 ] || [ "$#" -eq 4 ] || { log "usage: $0 serve PORT DIR [memory|filesystem]"; exit 2; }
    port="$2" dir="$3" backend="${4:-memory}"
    mkdir -p "$dir"
    case "$backend" in
      memory) where=(-backend memory -data "$dir") ;;
      filesystem) where=(-backend filesystem -filesystem-root "$dir") ;;
      *) log "backend must be memory or filesystem, not $backend"; exit 2 ;;
    esac
    # -public-host/-external-url make the URLs it returns (mediaLink, resumable upload sessions) point back here.
    exec "$BIN" -scheme http -host 127.0.0.1 -port "$port" -public-host "127.0.0.1:$port" \
      -external-url "http://127.0.0.1:$port" "${where[@]}" -log-level info
    ;;
  *)
    log "usage: $0 [serve PORT DIR [memory|filesystem]]"
    exit 2
    ;;
esac
