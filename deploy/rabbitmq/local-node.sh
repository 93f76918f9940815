#!/usr/bin/env bash
# A private RabbitMQ node on loopback, configured exactly as deploy/rabbitmq/ says (rabbitmq.conf,
# enabled_plugins, definitions.json imported at boot), beside any broker already running. Used by
# .ci/deploy-check.sh to prove the shipped configuration boots and by the restore drill.
#
#   deploy/rabbitmq/local-node.sh start DIR    # prints: AMQP_URL=... PROMETHEUS_URL=... NODE=...
#   deploy/rabbitmq/local-node.sh stop DIR
#
# Needs the rabbitmq-server package (Debian). The user "cigo" gets a random password, set with
# `rabbitmqctl change_password` after the import (the file carries none).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?start|stop}
dir=${2:?DIR}
# The node's own files live in a directory of their own that the rabbitmq user can reach
# (Debian's rabbitmq-server drops to that user); DIR only records where.
node="cigo$(printf '%s' "$dir" | sha256sum | cut -c1-10)@localhost"
ctl() { RABBITMQ_NODENAME=$node rabbitmqctl -q -n "$node" "$@"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

case "$cmd" in
start)
  mkdir -p "$dir"
  home=$(mktemp -d /tmp/cigo-rabbitmq.XXXXXX)
  echo "$home" >"$dir/home"
  amqp=$(free_port) prom=$(free_port) mgmt=$(free_port) dist=$(free_port)
  cp "$here/definitions.json" "$here/enabled_plugins" "$home/"
  sed "s#/etc/rabbitmq/definitions.json#$home/definitions.json#" "$here/rabbitmq.conf" >"$home/rabbitmq.conf"
  cat >>"$home/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$amqp
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $prom
CONF
  chown -R rabbitmq:rabbitmq "$home" 2>/dev/null || true
  chmod 0755 "$home"
  export RABBITMQ_NODENAME=$node RABBITMQ_CONFIG_FILE=$home/rabbitmq.conf \
    RABBITMQ_ENABLED_PLUGINS_FILE=$home/enabled_plugins RABBITMQ_MNESIA_BASE=$home/mnesia \
    RABBITMQ_LOG_BASE=$home/log RABBITMQ_DIST_PORT=$dist RABBITMQ_PID_FILE=$home/pid \
    RABBITMQ_PLUGINS_EXPAND_DIR=$home/plugins-expand
  (cd /tmp && rabbitmq-server -detached) >/dev/null
  if ! timeout 120 rabbitmqctl -q -n "$node" wait --timeout 110 "$home/pid" >/dev/null; then
    echo "the RabbitMQ node $node did not start; its log:" >&2
    tail -n 50 "$home"/log/*.log >&2 || true
    exit 1
  fi
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  ctl change_password cigo "$password" >/dev/null
  echo "$node" >"$dir/node"
  echo "AMQP_URL=amqp://cigo:$password@127.0.0.1:$amqp/cigo"
  echo "PROMETHEUS_URL=http://127.0.0.1:$prom/metrics"
  echo "NODE=$node"
  ;;
stop)
  [ -f "$dir/home" ] || exit 0
  RABBITMQ_NODENAME=$node rabbitmqctl -q -n "$node" stop >/dev/null 2>&1 || true
  rm -rf "$(cat "$dir/home")"
  rm -f "$dir/home" "$dir/node"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
