#!/usr/bin/env bash
# ensure-s3-server.sh: make a real S3-compatible server available and print
# its path. The server is versitygw (posix backend): one static Go binary that
# builds in about a minute, serves a plain directory, and implements what the
# s3:// source relies on: ListObjectsV2 / ListObjectVersions with pagination,
# bucket versioning (--versioning-dir), SHA256 checksums with ChecksumType
# FULL_OBJECT/COMPOSITE, ranged GETs, If-Match and SigV4 auth. MinIO was the
# alternative; its module versions are not served by the Go module proxy
# reachable here, and it is a far larger build.
#
# Built from the Go module proxy into the tool cache; skipped when present.
# `go install ...@version` fails here (the proxy refuses version lists), so a
# throwaway module requiring one exact version builds instead. Of versitygw's
# recent releases the proxy serves v1.2.0.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSITYGW_VERSION="${FMC_VERSITYGW_VERSION:-v1.2.0}"

if [ ! -x "$TOOLS_BIN/versitygw" ]; then
  go_build_pinned versitygw github.com/versity/versitygw "$VERSITYGW_VERSION" \
    github.com/versity/versitygw/cmd/versitygw "$TOOLS_BIN/versitygw" ||
    { log "versitygw $VERSITYGW_VERSION could not be built"; exit 1; }
  echo "$VERSITYGW_VERSION" >"$TOOLS_BIN/versitygw.version"
fi
echo "$TOOLS_BIN/versitygw"
