#!/bin/sh
# Durable notice deliveries per second on SQLite and PostgreSQL beside a bare Go loop ceiling.
# Usage: bench/notify.sh [RECIPIENTS]   (PostgreSQL runs when SUNSET_TEST_POSTGRES_URL is set)
set -e
cd "$(dirname "$0")/.."
N=${1:-100000}
go build -o /tmp/sunset-bench-notify ./bench/notify
for ch in webhook email; do
  /tmp/sunset-bench-notify -n "$N" -channel $ch -db sqlite
  if [ -n "$SUNSET_TEST_POSTGRES_URL" ]; then
    /tmp/sunset-bench-notify -n "$N" -channel $ch -db "$SUNSET_TEST_POSTGRES_URL"
  fi
done
