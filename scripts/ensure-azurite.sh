#!/usr/bin/env bash
# ensure-azurite.sh: make Azurite, Microsoft's Azure Storage emulator, available
# and print the path of its blob service (`azurite-blob`). The azure:// tests
# write fixtures to it with the official @azure/storage-blob client and hydrate
# from it; it speaks the Blob REST API (List Blobs with pagination, ranged Get
# Blob, If-Match/If-None-Match, Content-MD5, Shared Key and SAS auth, public
# containers), not versioning (its README lists Blob Versions as unsupported).
#
# From the npm registry into the tool cache, one directory per version, reused;
# it is not a devDependency because its ~375 packages are needed by these tests
# only, not by a developer's editor or the image. Needs Node >= 22 (ensure_node).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AZURITE_VERSION="${FMC_AZURITE_VERSION:-3.37.0}"
DIR="$CACHE/azurite-$AZURITE_VERSION"
BIN="$DIR/node_modules/.bin/azurite-blob"

if [ -x "$BIN" ] && [ -f "$DIR/.complete" ]; then echo "$BIN"; exit 0; fi
ensure_node
# Two test files may ask at once: the second waits for the first's install.
exec 8>"$DIR.lock"
flock 8
if [ -x "$BIN" ] && [ -f "$DIR/.complete" ]; then echo "$BIN"; exit 0; fi
rm -rf "$DIR"
mkdir -p "$DIR"
printf '{"name":"fmc-azurite","private":true}\n' >"$DIR/package.json"
step "azurite-$AZURITE_VERSION" "Azurite $AZURITE_VERSION: installing from the npm registry" \
  bash -c 'cd "$1" && npm install --no-audit --no-fund --ignore-scripts --save-exact "azurite@$2"' _ "$DIR" "$AZURITE_VERSION" ||
  { rm -rf "$DIR"; log "Azurite $AZURITE_VERSION could not be installed"; exit 1; }
[ -x "$BIN" ] || { log "Azurite $AZURITE_VERSION installed without $BIN"; exit 1; }
touch "$DIR/.complete"
echo "$BIN"
