#!/usr/bin/env bash
# PostgreSQL first-start script (docker-entrypoint-initdb.d): one role per service, owning its
# own database; no service can read another's tables. Passwords come from the environment.
set -euo pipefail

for service in assignments notifications reporting; do
  var="PLANTRACK_DB_PASSWORD_$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')"
  password=${!var:?set $var}
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v role="$service" -v password="$password" -v db="plantrack_$service" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
done
