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

log() { printf '==> %s\n' "$*" >&2; }

# Long steps write their output to a log file under $LOGS and say one line
# when they start (with how long the step took on this machine last time)
# and one when they end (with how long it took now); on failure, the end of
# the log. Durations are kept in $LOGS/durations.tsv.
LOGS="$CACHE/logs"
mkdir -p "$LOGS"
fmt_secs() { local s="$1"; if [ "$s" -ge 60 ]; then printf '%d min %02d s' $((s / 60)) $((s % 60)); else printf '%d s' "$s"; fi; }
step() { # step <name> <what> <command...>: runs the command with its output in $LOGS/<name>.log
  local name="$1" what="$2" logf="$LOGS/$1.log" t0=$SECONDS last rc
  shift 2
  last="$(awk -F'\t' -v n="$name" '$1 == n { s = $2 } END { if (s != "") print s }' "$LOGS/durations.tsv" 2>/dev/null || true)"
  log "$what${last:+ (took $(fmt_secs "$last") on this machine last time)}; log: $logf"
  if "$@" >"$logf" 2>&1; then rc=0; else rc=$?; fi
  if [ "$rc" -ne 0 ]; then
    log "$what FAILED after $(fmt_secs $((SECONDS - t0))) (exit $rc); the end of $logf:"
    tail -n 25 "$logf" >&2
    return "$rc"
  fi
  printf '%s\t%s\n' "$name" $((SECONDS - t0)) >>"$LOGS/durations.tsv"
  log "$what: done in $(fmt_secs $((SECONDS - t0)))"
}

# apt_install PACKAGE...: Debian's packages, with apt-get as root (or through
# sudo without a password), output in $LOGS/apt-<first package>.log. The
# package lists are refreshed only when the install fails without it. Without
# root the caller says so and what to install (README, "What the tests install").
apt_install() {
  command -v apt-get >/dev/null 2>&1 || { log "apt-get is not available to install $*: install them with your package manager"; return 1; }
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
    else log "installing $* needs root (apt-get): run as root, or install them yourself first"; return 1; fi
  fi
  step "apt-$1" "installing $* from Debian's packages (apt-get)" bash -c '
    sudo="$1"; shift; export DEBIAN_FRONTEND=noninteractive
    inst() { $sudo apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "$@"; }
    inst "$@" || { $sudo apt-get update -q -o DPkg::Lock::Timeout=300 && inst "$@"; }' _ "$sudo" "$@"
}

# The Go module proxy, asked directly over its HTTP protocol (quietly: a
# refusal is an answer, not an error to print). GOPROXY's first URL entry.
go_proxy_url() {
  local p
  p="$( (go env GOPROXY 2>/dev/null || echo "${GOPROXY:-https://proxy.golang.org}") | tr ',|' '\n\n' | grep -E '^https?://' | head -n 1)"
  echo "${p%/}"
}
# proxy_serves MODULE VERSION: whether the proxy serves that version's zip (HTTP 200 to a HEAD).
proxy_serves() {
  local proxy; proxy="$(go_proxy_url)"
  [ -n "$proxy" ] || return 0 # GOPROXY=direct or off: nothing to ask; go decides
  PROXY_URL="$proxy/$1/@v/$2.zip" node -e '
    fetch(process.env.PROXY_URL, { method: "HEAD", signal: AbortSignal.timeout(20000) })
      .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(2));' 2>/dev/null
}

# Crossplane, one build for both programs: the CLI (`crank`, whose `render`
# runs the pipeline in-process without a container engine) and the core the
# live control plane runs. The version is the tested one (XP_PINNED) when the
# module proxy serves it, else the newest of XP_CANDIDATES it serves: asked
# once per machine, directly (a HEAD per version, see proxy_serves), and kept
# in $CACHE/crossplane.version; FMC_XP_VERSION overrides. (The proxy reachable
# where this was built refuses version lists and serves v2.2.1 but not v2.2.2
# to v2.2.4: asking `go` for those printed a 403 on every run.)
XP_PINNED=v2.2.1
XP_CANDIDATES="v2.2.4 v2.2.3 v2.2.2 v2.2.1"
XP_MODULE=github.com/crossplane/crossplane/v2
resolve_xp_version() {
  if [ -n "${FMC_XP_VERSION:-}" ]; then echo "$FMC_XP_VERSION"; return; fi
  local cached v
  cached="$(cat "$CACHE/crossplane.version" 2>/dev/null || true)"
  if [ -n "$cached" ]; then echo "$cached"; return; fi
  # No go (or no proxy): nothing to ask; the pinned version, and ensure_crossplane_build says what is missing.
  if ! command -v go >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then echo "$XP_PINNED"; return; fi
  for v in "$XP_PINNED" $XP_CANDIDATES; do
    if proxy_serves "$XP_MODULE" "$v"; then
      echo "$v" >"$CACHE/crossplane.version"
      [ "$v" = "$XP_PINNED" ] || log "the Go module proxy does not serve Crossplane $XP_PINNED (the tested version); using $v"
      echo "$v"; return
    fi
  done
  log "the Go module proxy $(go_proxy_url) serves none of Crossplane $XP_PINNED $XP_CANDIDATES; trying $XP_PINNED (set FMC_XP_VERSION to choose)"
  echo "$XP_PINNED"
}
XP_VERSION="$(resolve_xp_version)"

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
  step npm-ci "installing the npm dependencies (npm ci)" bash -c 'cd "$1" && npm ci --no-audit --no-fund' _ "$ROOT"
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
  command -v go >/dev/null 2>&1 || { flock -u 8; log "go is not installed: cannot build Crossplane (install Go 1.24 or newer)"; return 1; }
  local dir
  dir="$(go_module_field "$XP_MODULE" "$XP_VERSION" Dir 2>>"$LOGS/crossplane-$XP_VERSION-download.log")" ||
    { flock -u 8; log "the Go module proxy did not give Crossplane $XP_VERSION (see $LOGS/crossplane-$XP_VERSION-download.log)"; return 1; }
  step "crossplane-$XP_VERSION-download" "Crossplane $XP_VERSION: downloading its dependencies" \
    bash -c 'cd "$1" && GOFLAGS=-buildvcs=false go mod download' _ "$dir" || { flock -u 8; return 1; }
  mkdir -p "$out"
  step "crossplane-$XP_VERSION-build" "Crossplane $XP_VERSION: building crank and crossplane" \
    bash -c 'cd "$1" && GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w -X github.com/crossplane/crossplane/v2/internal/version.version=$2" -o "$3/" ./cmd/crank ./cmd/crossplane' \
    _ "$dir" "$XP_VERSION" "$out" || { flock -u 8; return 1; }
  flock -u 8
}

# go_build_pinned NAME MODULE VERSION PACKAGE OUTPUT: builds one program of a
# Go module at one exact version, from the Go module proxy. `go install
# pkg@version` cannot be used where the proxy refuses version lists (it reads
# them for deprecations), so a throwaway module requiring that version builds
# instead. Output in $LOGS/<name>-<version>.log, one line per step.
go_build_pinned() {
  local name="$1" module="$2" version="$3" pkg="$4" out="$5" work
  command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build $name (install Go 1.24 or newer)"; return 1; }
  work="$(mktemp -d)"
  printf 'module %sbuild\n\ngo 1.24\n\nrequire %s %s\n' "$name" "$module" "$version" >"$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >"$work/tools.go"
  if step "$name-$version" "$name $version: downloading and building from the Go module proxy" \
      bash -c 'cd "$1" && export GOFLAGS=-buildvcs=false CGO_ENABLED=0 && go mod tidy && go build -trimpath -ldflags=-s -o "$3.tmp" "$2"' _ "$work" "$pkg" "$out"; then
    mv "$out.tmp" "$out"; rm -rf "$work"; return 0
  fi
  rm -rf "$work" "$out.tmp"; return 1
}

# ensure_crank puts the crossplane CLI (binary `crank`) on PATH.
ensure_crank() {
  ensure_crossplane_build || return 1
  ln -sf "$CACHE/crossplane-$XP_VERSION/crank" "$TOOLS_BIN/crank"
  echo "$XP_VERSION" >"$TOOLS_BIN/crank.version"
}
