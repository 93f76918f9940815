#!/usr/bin/env bash
# The object-store settings of compose.yaml work with the real binary: an S3 server on loopback
# (moto, from PyPI) stands in for MinIO; `cigo serve` runs with exactly the AWS_* variables and
# the CIGO_BLOB_URL of compose.yaml (the endpoint pointed at moto); a file is uploaded, stored in
# the bucket under the blob URL's prefix, and downloaded back byte for byte.
#
#   CIGO_BIN=target/debug/cigo PYTHON=<python with moto[server] and boto3> deploy/compose/s3-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${CIGO_BIN:-target/debug/cigo}")
PY=${PYTHON:-python3}
DIR=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
S3_PORT=$(free_port)
API_PORT=$(free_port)
"$(dirname "$PY")/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$DIR/moto.log" 2>&1 &
pids+=($!)

for v in $(env | grep -o '^CIGO_[A-Z_]*'); do unset "$v"; done
# compose.yaml's settings for the object store, with minio:9000 replaced by the moto server.
eval "$("$PY" - "$S3_PORT" <<'PY'
import shlex, sys, yaml
env = yaml.safe_load(open("deploy/compose.yaml"))["x-cigo"]["environment"]
for key, value in env.items():
    if key.startswith("AWS_") or key == "CIGO_BLOB_URL":
        value = str(value).replace("${CIGO_S3_PASSWORD:-cigo-dev-secret}", "cigo-dev-secret")
        value = value.replace("http://minio:9000", f"http://127.0.0.1:{sys.argv[1]}")
        print(f"export {key}={shlex.quote(value)}")
PY
)"
[ "$AWS_ENDPOINT" = "http://127.0.0.1:$S3_PORT" ] || { echo "compose.yaml has no AWS_ENDPOINT for minio:9000" >&2; exit 1; }
bucket=${CIGO_BLOB_URL#s3://}
bucket=${bucket%%/*}
"$PY" - "$S3_PORT" "$bucket" <<'PY'
import os, sys, time, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name=os.environ["AWS_REGION"])
for _ in range(100):
    try:
        s3.create_bucket(Bucket=sys.argv[2])
        break
    except Exception:
        time.sleep(0.1)
else:
    sys.exit("the S3 server did not start")
PY
export CIGO_DATA_DIR=$DIR/data CIGO_DELEGHE_REQUIRED=false CIGO_RATE_LIMIT_PER_MINUTE=0 CIGO_LOG=warn
TOKEN=$("$BIN" admin token create --intermediario RSSMRA85T10A562S)
"$BIN" serve --listen "127.0.0.1:$API_PORT" >"$DIR/serve.log" 2>&1 &
pids+=($!)
BASE=http://127.0.0.1:$API_PORT
for _ in $(seq 1 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "$BASE/readyz" >/dev/null || { cat "$DIR/serve.log" >&2; echo "cigo serve not ready with the S3 blob store" >&2; exit 1; }
"$BIN" generate --domande 10 --seed 9 --out "$DIR/r.xml" 2>/dev/null
curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/xml' --data-binary @"$DIR/r.xml" \
  "$BASE/api/v1/richieste" >/dev/null
curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/richieste/1/xml" >"$DIR/back.xml"
cmp "$DIR/r.xml" "$DIR/back.xml"
prefix=${CIGO_BLOB_URL#s3://"$bucket"/}
keys=$("$PY" - "$S3_PORT" "$bucket" <<'PY'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name=os.environ["AWS_REGION"])
print(" ".join(o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[2]).get("Contents", [])))
PY
)
[[ "$keys" == "$prefix/richieste/"*.xml ]] || { echo "unexpected objects in the bucket: $keys" >&2; exit 1; }
echo "compose's object-store settings: upload stored as s3://$bucket/$keys, downloaded byte for byte"
