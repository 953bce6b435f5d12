#!/bin/sh
# The full-size crash test of notice delivery, with real processes: a 10,000-recipient campaign
# (email and a webhook, to local sinks) is sent by `sunset serve`, which is killed with SIGKILL
# at random points 20 times and restarted each time; the last run finishes the campaign. The
# sinks then count the messages per recipient and channel: each recipient must have exactly one
# (one idempotency key; repeats under the same key, sent again after a kill between the send and
# its record, are counted apart: receivers drop them).
# Usage: bench/notify-crash.sh [RECIPIENTS] [KILLS]
#   SUNSET_BIN=path uses a sunset binary already built; SUNSET_TEST_POSTGRES_URL runs the test
#   on PostgreSQL as well.
set -e
cd "$(dirname "$0")/.."
N=${1:-10000}
KILLS=${2:-20}
BIN=${SUNSET_BIN:-/tmp/sunset-crash-bin}
if [ -z "$SUNSET_BIN" ]; then
  go build -o "$BIN" ./cmd/sunset
fi
go build -o /tmp/sunset-bench-notifycrash ./bench/notifycrash
echo "== SQLite"
/tmp/sunset-bench-notifycrash -n "$N" -kills "$KILLS" -sunset "$BIN" -db sqlite
if [ -n "$SUNSET_TEST_POSTGRES_URL" ]; then
  echo "== PostgreSQL"
  /tmp/sunset-bench-notifycrash -n "$N" -kills "$KILLS" -sunset "$BIN" -db "$SUNSET_TEST_POSTGRES_URL"
fi
