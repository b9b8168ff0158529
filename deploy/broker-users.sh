#!/usr/bin/env bash
# Create (or update) one RabbitMQ user per plantrack service with only the permissions it needs.
# Idempotent: run it again to change a password or re-apply the permissions.
#
#   PLANTRACK_AMQP_PASSWORD_ASSIGNMENTS=… PLANTRACK_AMQP_PASSWORD_NOTIFICATIONS=… \
#   PLANTRACK_AMQP_PASSWORD_REPORTING=… deploy/broker-users.sh
#
# Environment:
#   PLANTRACK_AMQP_PASSWORD_<SERVICE>  the user's password (required)
#   PLANTRACK_AMQP_USER_<SERVICE>      the user's name (default: the service name)
#   PLANTRACK_AMQP_VHOST               the virtual host (default: /)
#   RABBITMQCTL                        how to call rabbitmqctl (default: rabbitmqctl)
#
# Passwords go to rabbitmqctl on stdin, never on a command line.
set -euo pipefail

read -r -a CTL <<< "${RABBITMQCTL:-rabbitmqctl}"
VHOST=${PLANTRACK_AMQP_VHOST:-/}
EVENTS='plantrack\.events'
DLX='plantrack\.dlx'

ctl() { "${CTL[@]}" -q "$@"; }

ensure_user() {  # name password
  if ctl list_users --no-table-headers 2>/dev/null | cut -f1 | grep -Fxq -- "$1"; then
    printf '%s\n' "$2" | ctl change_password "$1" >/dev/null
  else
    printf '%s\n' "$2" | ctl add_user "$1" >/dev/null
  fi
  ctl set_user_tags "$1" >/dev/null  # no management tags: a service user is not an operator
}

grant() {  # service configure write read
  local upper name password
  upper=$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')
  name_var="PLANTRACK_AMQP_USER_${upper}"
  password_var="PLANTRACK_AMQP_PASSWORD_${upper}"
  name=${!name_var:-$1}
  password=${!password_var:-}
  if [ -z "$password" ]; then
    echo "broker-users: set ${password_var}" >&2
    exit 2
  fi
  ensure_user "$name" "$password"
  ctl set_permissions -p "$VHOST" "$name" "$2" "$3" "$4" >/dev/null
  echo "broker-users: ${name} on vhost ${VHOST}: configure '$2' write '$3' read '$4'"
}

ctl add_vhost "$VHOST" >/dev/null 2>&1 || true

# The producer declares the events exchange and publishes to it; it reads nothing.
grant assignments "^${EVENTS}\$" "^${EVENTS}\$" '^$'
# A consumer declares its own queues and its retry exchange `<service>.retry` (and, idempotently,
# the two shared exchanges it binds them to), binds and consumes them, republishes a failed message
# to `<service>.retry` (its attempt count in a header) and parks messages in the dead-letter exchange
# (after the attempt limit, or unreadable or forged at once, with the reason). It can never publish
# to plantrack.events nor to another service's queues or retry exchange. Policies (delivery limit,
# dead-lettering) are set by an operator with `plantrack broker-setup`, not by these users.
for service in notifications reporting; do
  grant "$service" "^(${service}\\..+|${EVENTS}|${DLX})\$" "^(${service}\\..+|${DLX})\$" \
        "^(${service}\\..+|${EVENTS}|${DLX})\$"
done
