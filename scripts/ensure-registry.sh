#!/usr/bin/env bash
# ensure-registry.sh: make a real OCI registry (CNCF Distribution) available
# and print the path of its binary (run as `<path> serve <config.yml>`).
#
# Debian's `docker-registry` package (Distribution 2.8.2) is the first choice:
# it installs in seconds from Debian's archive with no compile, and it serves
# what the oci:// source needs: OCI image manifests with artifactType (what
# oras pushes), image indexes, ranged blob GETs, htpasswd basic auth and JWT
# token auth. Where apt cannot be used (not root, not Debian) the same
# registry, Distribution v3, is built from the Go module proxy instead (about
# 2 minutes; `go install ...@version` fails here because the proxy refuses
# version lists, so a throwaway module pins one exact version).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DISTRIBUTION_VERSION="${FMC_DISTRIBUTION_VERSION:-v3.0.0}"

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

if [ -x "$TOOLS_BIN/registry" ]; then echo "$TOOLS_BIN/registry"; exit 0; fi
if command -v docker-registry >/dev/null 2>&1; then command -v docker-registry; exit 0; fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing Debian's docker-registry package"
  apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o DPkg::Lock::Timeout=300 docker-registry >&2
  }
  # The package lists may be missing or stale on a fresh machine.
  if apt_install || { apt-get update -q -o DPkg::Lock::Timeout=300 >&2 && apt_install; }; then
    if command -v docker-registry >/dev/null 2>&1; then command -v docker-registry; exit 0; fi
  fi
  log "docker-registry could not be installed with apt; building Distribution instead"
fi

log "building Distribution $DISTRIBUTION_VERSION from the Go module proxy (about 2 minutes on a cold cache)"
go_build_pinned registry github.com/distribution/distribution/v3 "$DISTRIBUTION_VERSION" \
  github.com/distribution/distribution/v3/cmd/registry "$TOOLS_BIN/registry" ||
  { log "Distribution $DISTRIBUTION_VERSION could not be built"; exit 1; }
echo "$DISTRIBUTION_VERSION" >"$TOOLS_BIN/registry.version"
echo "$TOOLS_BIN/registry"
