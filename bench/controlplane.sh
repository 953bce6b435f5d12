#!/bin/sh
# What one control plane sustains: feedback submissions/s (target 500) and gateway usage
# flushes/s (target 5,000), with p50/p99 latencies, posted by a Go load generator to a real
# `sunset serve` on 127.0.0.1, on SQLite and (when SUNSET_TEST_POSTGRES_URL is set) PostgreSQL.
# "ceiling" is the rate against a bare Go HTTP server measured in the same run, with the same
# clients. Flushes come from a fleet of gateways (256 by default), each posting its next flush as
# soon as the last one is answered; feedback from 32 users at once.
# Usage: bench/controlplane.sh [DURATION] [FEEDBACK_CLIENTS] [GATEWAYS]   e.g. bench/controlplane.sh 5s 32 256
set -e
cd "$(dirname "$0")/.."
D=${1:-5s}
F=${2:-32}
G=${3:-256}
go build -o /tmp/sunset-bench-cp-server ./cmd/sunset
go build -o /tmp/sunset-bench-cp ./bench/controlplane
/tmp/sunset-bench-cp -bin /tmp/sunset-bench-cp-server -db sqlite -duration "$D" -feedback-clients "$F" -flush-clients "$G" -header
if [ -n "$SUNSET_TEST_POSTGRES_URL" ]; then
  /tmp/sunset-bench-cp -bin /tmp/sunset-bench-cp-server -db "$SUNSET_TEST_POSTGRES_URL" -duration "$D" -feedback-clients "$F" -flush-clients "$G"
fi
