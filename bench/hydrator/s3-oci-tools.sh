#!/usr/bin/env bash
# Installs the peer tools the s3/oci benchmark compares against, prints
# nothing but their paths (one `name=path` a line). s5cmd is built from the
# Go module proxy (the proxy refuses version lists, so a throwaway module pins
# one exact version); the AWS CLI is used when one is on PATH, else installed
# from PyPI into the tool cache.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

S5CMD_VERSION="${FMC_S5CMD_VERSION:-v2.3.0}"
if [ ! -x "$TOOLS_BIN/s5cmd" ]; then
  log "building s5cmd $S5CMD_VERSION from the Go module proxy"
  work="$(mktemp -d)"
  printf 'module s5cmdbuild\n\ngo 1.24\n\nrequire github.com/peak/s5cmd/v2 %s\n' "$S5CMD_VERSION" >"$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/peak/s5cmd/v2"\n' >"$work/tools.go"
  (cd "$work" && export GOFLAGS=-buildvcs=false CGO_ENABLED=0 && go mod tidy >&2 &&
    go build -trimpath -ldflags=-s -o "$TOOLS_BIN/s5cmd" github.com/peak/s5cmd/v2 >&2)
  rm -rf "$work"
fi
echo "s5cmd=$TOOLS_BIN/s5cmd"

if command -v aws >/dev/null 2>&1 && aws --version >/dev/null 2>&1; then
  echo "aws=$(command -v aws)"
else
  venv="$CACHE/awscli"
  if [ ! -x "$venv/bin/aws" ]; then
    log "installing awscli from PyPI into $venv"
    python3 -m venv "$venv" >&2 && "$venv/bin/pip" install -q awscli >&2
  fi
  echo "aws=$venv/bin/aws"
fi
