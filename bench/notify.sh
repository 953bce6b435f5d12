#!/bin/sh
# Durable notice deliveries per second on SQLite and PostgreSQL beside a bare Go loop ceiling.
# Usage: bench/notify.sh [RECIPIENTS]   (PostgreSQL runs when SUNSET_TEST_POSTGRES_URL is set)
#
# For each database and channel, one process: the ceiling (a bare Go loop rendering and posting
# the same messages to the same sink, no outbox), the fan-out of an N-recipient notice through the
# engine into the outbox, its durable delivery by the notify worker, and the ceiling again. The
# ratio is durable over the mean of the two ceilings. Targets: webhook on SQLite >= 3,000/s and
# >= 0.5x the ceiling; email limited by the sink, not by Sunset.
set -e
cd "$(dirname "$0")/.."
N=${1:-100000}
go build -o /tmp/sunset-bench-notify ./bench/notify
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "db       channel        n  fan-out   rows/s   durable   ceiling (before, after)  ratio  received  heap"
for ch in webhook email; do
  /tmp/sunset-bench-notify -n "$N" -channel $ch -db sqlite
  if [ -n "$SUNSET_TEST_POSTGRES_URL" ]; then
    /tmp/sunset-bench-notify -n "$N" -channel $ch -db "$SUNSET_TEST_POSTGRES_URL"
  fi
done
