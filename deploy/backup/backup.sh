#!/usr/bin/env bash
# Backs up cigo: the PostgreSQL database FIRST, the blob directory AFTER, into OUT (new).
#
#   CIGO_DATABASE_URL=postgres://... CIGO_BLOB_DIR=/var/lib/cigo/blobs deploy/backup/backup.sh OUT
#
# Why this order: a blob is written (and fsync'd) before the row that names it commits, and a
# blob is deleted only after its row is gone. So every row in a dump taken first has its blob
# on disk when the copy starts, and the copy contains it; the copy may also hold blobs of uploads
# committed after the dump (orphans: harmless, listed by restore.sh). Blobs first and the dump
# after would miss the blobs of every row committed in between: lost files.
# The one thing that breaks this is a blob deleted between the dump and the copy (a retention
# purge): do not run the purge during a backup.
#
# Object storage (CIGO_BLOB_URL=s3://...): the same order, with the bucket's versioning on and the
# copy taken with your S3 tool after the dump (docs/operations.md). This script copies a
# directory (CIGO_BLOB_URL as a path or file://).
set -euo pipefail
out=${1:?usage: backup.sh OUT_DIR}
db=${CIGO_DATABASE_URL:?CIGO_DATABASE_URL}
blobs=${CIGO_BLOB_DIR:-${CIGO_BLOB_URL#file://}}
if [ -z "$blobs" ] || [ ! -d "$blobs" ]; then
  echo "blob directory not found: '${blobs}' (CIGO_BLOB_DIR)" >&2; exit 2
fi
[ -e "$out" ] && { echo "$out exists: a backup goes into a new directory" >&2; exit 2; }
mkdir -p "$out"

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# 1. The database: one consistent snapshot (pg_dump runs in one repeatable-read transaction).
pg_dump --format=custom --no-owner --no-privileges --file="$out/db.dump" "$db"
dumped=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# 2. The blobs, after the dump. (Blobs are immutable once written: a plain copy is consistent.)
mkdir -p "$out/blobs"
# (.tmp holds blobs still being written: not yet named by any row.)
tar -C "$blobs" --exclude=./.tmp -cf - . | tar -C "$out/blobs" -xf -
(cd "$out/blobs" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) >"$out/blobs.sha256"
cat >"$out/manifest" <<MANIFEST
started=$started
database_dumped=$dumped
blobs_copied=$(date -u +%Y-%m-%dT%H:%M:%SZ)
blob_files=$(wc -l <"$out/blobs.sha256")
MANIFEST
echo "backup written to $out ($(wc -l <"$out/blobs.sha256") blobs)" >&2
