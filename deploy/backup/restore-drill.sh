#!/usr/bin/env bash
# The restore drill: the real binary in the distributed mode (cigo api + worker + sender on
# PostgreSQL + RabbitMQ, blobs in a local directory), some richieste through to their esito and
# consegna, a backup with backup.sh while the service runs, an upload after the dump (its blob
# lands in the copy without a row: the harmless side of the ordering), the database and the
# blobs lost, restore.sh, the service started again, and every richiesta compared with what the
# API showed before: stato, counters, domande, esiti, protocol numbers, transizioni, the XML byte
# for byte. Then a new upload must get its esito and a numero never handed out before.
#
#   deploy/backup/restore-drill.sh        # from the repository root; ~1-2 minutes
#
# Settings (environment): CIGO_BIN (default target/debug/cigo), CIGO_DRILL_POSTGRES_URL (an
# account that may create databases; default postgres://postgres@127.0.0.1:5432/test),
# CIGO_DRILL_AMQP_URL (default: a private RabbitMQ node started with deploy/rabbitmq/local-node.sh,
# configured as shipped: vhost and user "cigo").
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${CIGO_BIN:-target/debug/cigo}")
[ -x "$BIN" ] || { echo "no cigo binary at $BIN: cargo build -p cigo" >&2; exit 2; }
PG_ADMIN=${CIGO_DRILL_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
ID=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
DB=cigo_drill_$ID
DIR=$(mktemp -d /tmp/cigo-drill.XXXXXX)
CF=RSSMRA85T10A562S
pids=()
OWN_MQ=

say() { printf '[drill %s] %s\n' "$(date -u +%T)" "$*"; }
cleanup() {
  local status=$?
  stop_all
  if [ -n "$OWN_MQ" ]; then deploy/rabbitmq/local-node.sh stop "$DIR/mq" || true; fi
  psql -X -q -d "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ]; then
    say "FAILED (exit $status); logs:"
    for f in "$DIR"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
  fi
  rm -rf "$DIR"
  exit "$status"
}
trap cleanup EXIT
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}

if [ -n "${CIGO_DRILL_AMQP_URL:-}" ]; then
  AMQP=$CIGO_DRILL_AMQP_URL
else
  say "starting a private RabbitMQ node (deploy/rabbitmq as shipped)"
  OWN_MQ=1
  AMQP=$(deploy/rabbitmq/local-node.sh start "$DIR/mq" | sed -n 's/^AMQP_URL=//p')
fi
DB_URL="${PG_ADMIN%/*}/$DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$PG_ADMIN" -c "CREATE DATABASE $DB" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
# The processes see only the settings below (the drill's own variables were read above).
for v in $(env | grep -o '^CIGO_[A-Z_]*'); do unset "$v"; done
unset OTEL_EXPORTER_OTLP_ENDPOINT
export CIGO_DATABASE_URL=$DB_URL CIGO_AMQP_URL=$AMQP CIGO_BLOB_URL=$DIR/blobs CIGO_DATA_DIR=$DIR/data \
  CIGO_SPOOL_DIR=$DIR/spool CIGO_LISTEN=127.0.0.1:$PORT CIGO_DELEGHE_REQUIRED=false \
  CIGO_RATE_LIMIT_PER_MINUTE=0 CIGO_RELAY_POLL_MS=50 CIGO_LOG=warn,cigo=info

start_all() {
  "$BIN" api >>"$DIR/api.log" 2>&1 & pids+=($!)
  "$BIN" worker >>"$DIR/worker.log" 2>&1 & pids+=($!)
  "$BIN" sender >>"$DIR/sender.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" = 200 ] && return
    sleep 0.1
  done
  echo "cigo api not ready on $BASE" >&2; return 1
}
api() { curl -sS -f -H "Authorization: Bearer $TOKEN" "$@"; }
stato() { api "$BASE/api/v1/richieste/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stato"])'; }
wait_for() { # numero, accepted states (|-separated)
  local s
  for _ in $(seq 1 600); do
    s=$(stato "$1")
    if [[ "|$2|" == *"|$s|"* ]]; then echo "$s"; return; fi
    sleep 0.2
  done
  echo "richiesta $1 still $s, expected $2" >&2; return 1
}
upload() { # file, query
  api -H 'Content-Type: application/xml' --data-binary @"$1" "$BASE/api/v1/richieste$2" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["numero_richiesta"])'
}

say "cigo migrate, a token, api + worker + sender on database $DB"
"$BIN" migrate >>"$DIR/migrate.log" 2>&1
TOKEN=$("$BIN" admin token create --intermediario "$CF" --nome drill 2>>"$DIR/migrate.log")
start_all

for seed in 1 2 3 4 5 6; do
  "$BIN" generate --domande 40 --invalid-ratio 0.25 --seed "$((seed * 101))" --out "$DIR/r$seed.xml" 2>/dev/null
done
n1=$(upload "$DIR/r1.xml" "")                          # prevalidated, then approved and sent
n2=$(upload "$DIR/r2.xml" "")                          # prevalidated, left to the intermediario
n3=$(upload "$DIR/r3.xml" "?prevalidazione=false")     # direct mode: validated and sent
n4=$(upload "$DIR/r4.xml" "")                          # prevalidated, then eliminata
wait_for "$n1" "PREVALIDATA|SCARTATA" >/dev/null
api -X POST "$BASE/api/v1/richieste/$n1/approvazione" >/dev/null
wait_for "$n4" "PREVALIDATA|SCARTATA" >/dev/null
api -X DELETE "$BASE/api/v1/richieste/$n4" >/dev/null
say "richiesta $n1: $(wait_for "$n1" "CONSEGNATA|SCARTATA_IN_INVIO"), $n2: $(wait_for "$n2" "PREVALIDATA|SCARTATA"), $n3: $(wait_for "$n3" "CONSEGNATA|SCARTATA_IN_INVIO|SCARTATA"), $n4: $(wait_for "$n4" ELIMINATA)"
python3 deploy/backup/snapshot.py "$BASE" "$TOKEN" >"$DIR/before.json"

say "backup while the service runs: the database first"
export CIGO_BLOB_DIR=$DIR/blobs
# The blob copy waits until an upload has committed after the dump: its blob is then in the copy
# and its row is not (the orphan the restore must report, and nothing worse).
mkfifo "$DIR/dumped"
(
  read -r _ <"$DIR/dumped"
  lost=$(upload "$DIR/r5.xml" "")
  wait_for "$lost" "PREVALIDATA|SCARTATA" >/dev/null
  echo "$lost" >"$DIR/lost"
) &
uploader=$!
PGDUMP_WRAPPER="$DIR/bin"
mkdir -p "$PGDUMP_WRAPPER"
# pg_dump, then signal the uploader and wait for its esito before backup.sh copies the blobs.
cat >"$PGDUMP_WRAPPER/pg_dump" <<WRAP
#!/usr/bin/env bash
$(command -v pg_dump) "\$@" || exit
echo dumped >"$DIR/dumped"
while [ ! -s "$DIR/lost" ]; do sleep 0.1; done
WRAP
chmod +x "$PGDUMP_WRAPPER/pg_dump"
PATH="$PGDUMP_WRAPPER:$PATH" deploy/backup/backup.sh "$DIR/backup"
wait "$uploader"
lost=$(cat "$DIR/lost")
say "backup taken; richiesta $lost was accepted after the dump"

say "disaster: the processes stopped, database $DB dropped, blob directory removed"
stop_all
psql -X -q -v ON_ERROR_STOP=1 -d "$PG_ADMIN" -c "DROP DATABASE $DB WITH (FORCE)" >/dev/null
rm -rf "$DIR/blobs"

say "restore"
psql -X -q -v ON_ERROR_STOP=1 -d "$PG_ADMIN" -c "CREATE DATABASE $DB" >/dev/null
deploy/backup/restore.sh "$DIR/backup" --numero-from "$((lost + 1))" 2>&1 | tee "$DIR/restore.out"
grep -q 'restored: 4 richieste, 0 without their blob, 1 orphan blobs' "$DIR/restore.out" \
  || { echo "restore.sh did not report 4 richieste, 0 missing, 1 orphan" >&2; exit 1; }
"$BIN" migrate >>"$DIR/migrate.log" 2>&1   # the upgrade path: nothing to apply, must succeed
start_all
python3 deploy/backup/snapshot.py "$BASE" "$TOKEN" >"$DIR/after.json"
python3 - "$DIR/before.json" "$DIR/after.json" <<'PY'
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
assert before.keys() == after.keys(), f"richieste before {sorted(before)} after {sorted(after)}"
for n in before:
    for part in ("view", "xml_sha256", "xml_bytes", "domande"):
        assert before[n][part] == after[n][part], f"richiesta {n}: {part} differs after the restore"
    # Reading them again adds nothing to the transizioni (reads go to the audit table).
    assert before[n]["transizioni"] == after[n]["transizioni"], f"richiesta {n}: transizioni differ"
    assert before[n]["xml_sha256"] == before[n]["view"]["sha256"], f"richiesta {n}: XML is not the stored file"
protocolli = [d["protocollo"] for r in after.values() for d in r["domande"] if d["protocollo"]]
assert protocolli, "the drill needs protocol numbers to compare"
assert len(protocolli) == len(set(protocolli))
print(f"identical after the restore: {len(after)} richieste, "
      f"{sum(len(r['domande']) for r in after.values())} domande, {len(protocolli)} protocol numbers, "
      f"every XML byte for byte")
PY
n6=$(upload "$DIR/r6.xml" "")
s6=$(wait_for "$n6" "PREVALIDATA|SCARTATA")
[ "$n6" -gt "$lost" ] || { echo "numero $n6 handed out again (lost: $lost)" >&2; exit 1; }
say "after the restore a new upload got numero $n6 (> $lost, lost with the restore point) and its esito $s6"
say "restore drill passed"
