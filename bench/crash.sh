#!/usr/bin/env bash
# bench/crash.sh [ROUNDS]: the runbook fault test at full length — SIGKILL the runner at random
# points during 30 runs (backup, verify and exec steps), restarting it each time.
set -euo pipefail
cd "$(dirname "$0")/.."
SUNSET_CRASH_ROUNDS=${1:-30} go test ./runbook -run TestRunSurvivesSIGKILLAtRandomPoints -count=1 -v -timeout 30m | grep -E "SIGKILL|PASS|FAIL|ok"
