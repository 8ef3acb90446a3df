#!/usr/bin/env bash
# ensure-oras.sh: make the `oras` CLI available and print its path.
# The OCI tests push their artifacts with the real oras (plain files, a
# directory, a ModelPack-shaped artifact), so what they pull is what users push.
# Built from the Go module proxy into the tool cache; skipped when present.
#
# `go install oras.land/oras/cmd/oras@vX` fails here: the proxy refuses the
# module's version list (403), which `go install` reads to look for
# deprecations. A throwaway module requiring one exact version builds instead
# (the technique of ensure_crank in lib.sh).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ORAS_VERSION="${FMC_ORAS_VERSION:-v1.3.1}"

go_build_pinned() { # name module version package output
  local name="$1" module="$2" version="$3" pkg="$4" out="$5" work
  command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build $name"; return 1; }
  work="$(mktemp -d)"
  printf 'module %sbuild\n\ngo 1.24\n\nrequire %s %s\n' "$name" "$module" "$version" >"$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >"$work/tools.go"
  if (cd "$work" && export GOFLAGS=-buildvcs=false CGO_ENABLED=0 && go mod tidy >&2 &&
      go build -trimpath -ldflags=-s -o "$out.tmp" "$pkg" >&2); then
    mv "$out.tmp" "$out"; rm -rf "$work"; return 0
  fi
  rm -rf "$work" "$out.tmp"; return 1
}

if [ ! -x "$TOOLS_BIN/oras" ]; then
  log "building oras $ORAS_VERSION from the Go module proxy (about 1 minute on a cold cache)"
  go_build_pinned oras oras.land/oras "$ORAS_VERSION" oras.land/oras/cmd/oras "$TOOLS_BIN/oras" ||
    { log "oras $ORAS_VERSION could not be built"; exit 1; }
  echo "$ORAS_VERSION" >"$TOOLS_BIN/oras.version"
fi
echo "$TOOLS_BIN/oras"
