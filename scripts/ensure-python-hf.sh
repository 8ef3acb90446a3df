#!/usr/bin/env bash
# ensure-python-hf.sh: a Python virtualenv holding the real huggingface_hub
# client from PyPI (and its `hf` CLI), and print the venv's python path. The
# hub stand-in's tests download from the stand-in with this client, and read
# the hydrator's HuggingFaceCache layout with it offline, to prove both
# faithful; the benchmark compares against `hf download`.
# The venv lives in the tool cache and is reused; the version is pinned.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HF_HUB_VERSION="${FMC_HF_HUB_VERSION:-2.4.0}"
VENV="$CACHE/python-hf"

if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.hf-version" 2>/dev/null)" = "$HF_HUB_VERSION" ]; then
  echo "$VENV/bin/python"; exit 0
fi

py="$(command -v python3 || true)"
if [ -z "$py" ] || ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
  apt_install python3 python3-venv || { log "python3 with venv is missing and could not be installed"; exit 1; }
  py="$(command -v python3)"
fi
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
  { log "$py is older than 3.9: huggingface_hub $HF_HUB_VERSION needs 3.9+"; exit 1; }

rm -rf "$VENV"
step "python-hf-$HF_HUB_VERSION" "creating $VENV with huggingface_hub==$HF_HUB_VERSION from PyPI" \
  bash -c '"$1" -m venv "$2" && "$2/bin/python" -m pip install --quiet --disable-pip-version-check "huggingface_hub==$3"' _ "$py" "$VENV" "$HF_HUB_VERSION" ||
  { log "could not create the huggingface_hub virtualenv"; exit 1; }
echo "$HF_HUB_VERSION" >"$VENV/.hf-version"
echo "$VENV/bin/python"
