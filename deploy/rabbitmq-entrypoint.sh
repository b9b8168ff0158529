#!/usr/bin/env bash
# RabbitMQ in compose: start the server, then create the service users (deploy/broker-users.sh);
# the healthcheck passes only once they exist.
set -euo pipefail

READY=/tmp/plantrack-users-ready
rm -f "$READY"
docker-entrypoint.sh rabbitmq-server &
server=$!
trap 'kill -TERM "$server"; wait "$server"' TERM INT

until rabbitmqctl -q await_startup >/dev/null 2>&1; do
  kill -0 "$server" 2>/dev/null || exit 1
  sleep 1
done
bash /plantrack/broker-users.sh
touch "$READY"
wait "$server"
