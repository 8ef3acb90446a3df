#!/usr/bin/env bash
# Finds or installs the command-line peers the Cloud Storage and Azure Blob
# benchmarks compare against; prints nothing but their paths (one `name=path`
# a line) and, for a peer it cannot provide, `name=` with the reason on stderr
# (the benchmark then leaves that row out and says why).
#
#   gcloud: the Google Cloud CLI (`gcloud storage cp`) when it is on PATH. It is
#           not on PyPI or in Debian's archive (Google ships it from its own apt
#           repository as google-cloud-cli), so it is not installed here.
#   azcopy: AzCopy v10, the Linux build published on the npm registry as
#           @azure-tools/azcopy-linux (its package names the Azure/azure-storage-
#           azcopy repository; linked against libsecret, installed from Debian's
#           packages when missing), into the tool cache, one directory per version. The Go
#           module proxy does not serve azure-storage-azcopy, so it is not built
#           from source.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

if command -v gcloud >/dev/null 2>&1 && gcloud --version >/dev/null 2>&1; then
  echo "gcloud=$(command -v gcloud)"
else
  log "gcloud is not on PATH: the 'gcloud storage cp' row is left out (install google-cloud-cli to add it)"
  echo "gcloud="
fi

AZCOPY_VERSION="${FMC_AZCOPY_VERSION:-10.32.2}"
dir="$CACHE/azcopy-$AZCOPY_VERSION"
bin="$dir/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64"
azcopy_ok() { [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; }
if [ "$(uname -sm)" != "Linux x86_64" ]; then
  log "azcopy: @azure-tools/azcopy-linux holds a Linux x86-64 build only, not one for $(uname -sm): the azcopy row is left out"
  echo "azcopy="
  exit 0
fi
if [ ! -f "$dir/.complete" ]; then
  ensure_node
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '{"name":"fmc-azcopy","private":true}\n' >"$dir/package.json"
  step "azcopy-$AZCOPY_VERSION" "AzCopy $AZCOPY_VERSION: installing @azure-tools/azcopy-linux from the npm registry" \
    bash -c 'cd "$1" && npm install --no-audit --no-fund --ignore-scripts --save-exact "@azure-tools/azcopy-linux@$2"' _ "$dir" "$AZCOPY_VERSION" ||
    { rm -rf "$dir"; log "AzCopy could not be installed: the azcopy row is left out"; echo "azcopy="; exit 0; }
  # The tarball stores the binary as 0644 and the package declares no bin, so npm leaves it unexecutable.
  chmod +x "$bin"
  touch "$dir/.complete"
fi
if ! azcopy_ok && ldd "$bin" 2>/dev/null | grep -q 'libsecret-1.so.0 => not found'; then
  apt_install libsecret-1-0 || true
fi
if azcopy_ok; then
  echo "azcopy=$bin"
else
  log "azcopy at $bin does not run ($("$bin" --version 2>&1 | head -n 1)): the azcopy row is left out"
  echo "azcopy="
fi
