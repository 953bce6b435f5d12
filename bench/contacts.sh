#!/bin/sh
# A campaign to a million users: a contacts file of N rows (about 60 MB at a million) applied
# with its plan through a real `sunset serve` on SQLite (streamed by `sunset apply`, validated,
# stored in batches), then the announcement fanned out to every contact into the outbox (held,
# not delivered: the server has no --public-url). Prints each phase's time, the server's peak
# RSS, and ratios against the best plain bulk load of the same rows into the same table of a
# fresh store, measured in the same run (1.00x would be "no cost beyond a bare INSERT loop").
# Usage: bench/contacts.sh [N]   e.g. bench/contacts.sh 1000000
set -e
cd "$(dirname "$0")/.."
N=${1:-1000000}
go build -o /tmp/sunset-bench-contacts-server ./cmd/sunset
go build -o /tmp/sunset-bench-contacts ./bench/contacts
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
/tmp/sunset-bench-contacts -bin /tmp/sunset-bench-contacts-server -n "$N" -header
