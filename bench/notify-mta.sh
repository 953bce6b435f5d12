#!/bin/sh
# Durable email deliveries per second to a real MTA (Exim, Debian's exim4-daemon-light, started
# on loopback with a test configuration; run as root), on SQLite and PostgreSQL, beside the
# ceiling: a bare Go loop sending the same rendered messages through the same SMTP channel with no
# outbox. Also the delivery lag of an N-recipient notice by the MTA's own clock (its log).
# Usage: bench/notify-mta.sh [RECIPIENTS]   (default 10000; PostgreSQL runs when
# SUNSET_TEST_POSTGRES_URL is set)
#
# Targets (issue 14): durable >= 0.5x the ceiling; p99 delivery lag of the notice reported (the
# objective is 30 s for a notice to a healthy channel).
set -e
cd "$(dirname "$0")/.."
N=${1:-10000}
command -v exim4 >/dev/null || { echo "bench: needs exim4 (apt-get install exim4-daemon-light)" >&2; exit 1; }
go build -o /tmp/sunset-bench-notify ./bench/notify
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "db       channel        n  fan-out   rows/s   durable   ceiling (before, after)  ratio  received  heap"
/tmp/sunset-bench-notify -n "$N" -channel email -mta exim -db sqlite -concurrency 32
if [ -n "$SUNSET_TEST_POSTGRES_URL" ]; then
  /tmp/sunset-bench-notify -n "$N" -channel email -mta exim -db "$SUNSET_TEST_POSTGRES_URL" -concurrency 32
fi
