#!/usr/bin/env bash
# ensure-oras.sh: make the `oras` CLI available and print its path.
# The OCI tests push their artifacts with the real oras (plain files, a
# directory, a ModelPack-shaped artifact), so what they pull is what users push.
# Built from the Go module proxy into the tool cache; skipped when present.
#
# `go install oras.land/oras/cmd/oras@vX` fails here: the proxy refuses the
# module's version list (403), which `go install` reads to look for
# deprecations. A throwaway module requiring one exact version builds instead
# (go_build_pinned in lib.sh).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ORAS_VERSION="${FMC_ORAS_VERSION:-v1.3.1}"

if [ ! -x "$TOOLS_BIN/oras" ]; then
  go_build_pinned oras oras.land/oras "$ORAS_VERSION" oras.land/oras/cmd/oras "$TOOLS_BIN/oras" ||
    { log "oras $ORAS_VERSION could not be built"; exit 1; }
  echo "$ORAS_VERSION" >"$TOOLS_BIN/oras.version"
fi
echo "$TOOLS_BIN/oras"
