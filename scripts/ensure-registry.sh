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

if [ -x "$TOOLS_BIN/registry" ]; then echo "$TOOLS_BIN/registry"; exit 0; fi
if command -v docker-registry >/dev/null 2>&1; then command -v docker-registry; exit 0; fi

# Without root, apt_install says so and the build below runs instead.
if apt_install docker-registry && command -v docker-registry >/dev/null 2>&1; then command -v docker-registry; exit 0; fi
log "docker-registry could not be installed with apt; building Distribution instead"

go_build_pinned registry github.com/distribution/distribution/v3 "$DISTRIBUTION_VERSION" \
  github.com/distribution/distribution/v3/cmd/registry "$TOOLS_BIN/registry" ||
  { log "Distribution $DISTRIBUTION_VERSION could not be built"; exit 1; }
echo "$DISTRIBUTION_VERSION" >"$TOOLS_BIN/registry.version"
echo "$TOOLS_BIN/registry"
