#!/usr/bin/env bash
# build.sh [output]: the hydrator (hydrate, verify, version) as a Node single
# executable application for this machine's OS and architecture: one file that
# runs on a laptop or an air-gapped host with no Node.js installed (the air-gap
# flow of docs/hydrator.md). Node's own SEA support: the program bundled into
# one CommonJS file (esbuild), a preparation blob from it (node
# --experimental-sea-config), injected into a copy of the Node 24 binary
# (postject, the tool Node's documentation uses). On macOS the copy is
# re-signed ad hoc, as Node's documentation says.
# Default output: dist/function-model-cache-hydrator-<os>-<arch>.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT"
ensure_node
install_deps

os_arch="$(node -p 'process.platform + "-" + process.arch')"
out="${1:-$ROOT/dist/function-model-cache-hydrator-$os_arch}"
mkdir -p "$(dirname "$out")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step sea-bundle "bundling the hydrator into one file (esbuild)" \
  npx --no-install esbuild scripts/sea/hydrator-entry.ts --bundle --platform=node --format=cjs --target=node24 \
  --outfile="$work/hydrator.cjs" --log-level=warning
printf '{"main": "%s", "output": "%s", "disableExperimentalSEAWarning": true}\n' "$work/hydrator.cjs" "$work/sea.blob" >"$work/sea-config.json"
step sea-blob "preparing the single-executable blob (node --experimental-sea-config)" node --experimental-sea-config "$work/sea-config.json"
cp "$(command -v node)" "$out.tmp"
chmod u+w "$out.tmp"
inject=(npx --no-install postject "$out.tmp" NODE_SEA_BLOB "$work/sea.blob" --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2)
if [ "$(uname -s)" = Darwin ]; then
  codesign --remove-signature "$out.tmp"
  step sea-inject "injecting it into a copy of node $(node --version)" "${inject[@]}" --macho-segment-name NODE_SEA
  codesign --sign - "$out.tmp"
else
  step sea-inject "injecting it into a copy of node $(node --version)" "${inject[@]}"
fi
mv "$out.tmp" "$out"
# The smallest proof it runs on its own.
"$out" version >/dev/null || { log "$out does not run"; exit 1; }
log "built $out ($(du -h "$out" | cut -f1))"
echo "$out"
