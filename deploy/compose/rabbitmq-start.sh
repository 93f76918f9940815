#!/usr/bin/env bash
# RabbitMQ in compose: start the server (it imports /etc/rabbitmq/definitions.json), then give
# the user "cigo" its password from CIGO_AMQP_PASSWORD, and mark the node ready for the healthcheck.
set -euo pipefail
rm -f /var/lib/rabbitmq/cigo-password-set
rabbitmq-server &
pid=$!
trap 'kill -TERM "$pid"; wait "$pid"' TERM INT
rabbitmqctl wait --pid "$pid" --timeout 120
rabbitmqctl change_password cigo "${CIGO_AMQP_PASSWORD:?}"
touch /var/lib/rabbitmq/cigo-password-set
wait "$pid"
