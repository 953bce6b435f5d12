#!/usr/bin/env bash
# Measures refusing a plan bomb against parsing a real plan, in the same run: the time and the
# memory of plan.Parse on a 1 MB plan of 110 000 keys (the shape of the 9.9 MB bomb of the
# report, at the largest size a plan may have) and on examples/api-v2.yaml, and their ratios.
#
#   bench/planbomb.sh [BENCHTIME]      # default: 2s per benchmark
#
# The bomb is refused by the value count taken before YAML decoding (plan.MaxNodes), so its
# time is a pass over its bytes and its memory near nothing; the example is fully decoded,
# validated and resolved.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHTIME=${1:-2s}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

go test ./plan/ -run '^$' -bench '^BenchmarkParse(PlanBomb|Example)$' -benchmem -benchtime "$BENCHTIME" -count 1 > "$OUT" || {
  cat "$OUT"; exit 1; }
grep -E '^(goos|goarch|cpu):' "$OUT" || true
echo "cores: $(nproc)"

# field NAME UNIT: the value before UNIT on the line of benchmark NAME.
field() { awk -v n="BenchmarkParse$1" -v u="$2" '$1 ~ "^"n"(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == u) print $i }' "$OUT"; }
BOMB_NS=$(field PlanBomb ns/op); BOMB_B=$(field PlanBomb B/op); BOMB_ALLOCS=$(field PlanBomb allocs/op)
EX_NS=$(field Example ns/op); EX_B=$(field Example B/op); EX_ALLOCS=$(field Example allocs/op)

printf '\n%-32s %12s %12s %10s\n' plan "ms/parse" "KB alloc" allocs
awk -v ns="$BOMB_NS" -v b="$BOMB_B" -v a="$BOMB_ALLOCS" 'BEGIN { printf "%-32s %12.3f %12.1f %10d\n", "bomb (1 MB, 110 000 keys)", ns / 1e6, b / 1024, a }'
awk -v ns="$EX_NS" -v b="$EX_B" -v a="$EX_ALLOCS" 'BEGIN { printf "%-32s %12.3f %12.1f %10d\n", "examples/api-v2.yaml (4 KB)", ns / 1e6, b / 1024, a }'
awk -v bn="$BOMB_NS" -v en="$EX_NS" -v bb="$BOMB_B" -v eb="$EX_B" \
  'BEGIN { printf "\nbomb / example: time %.2fx, memory %.3fx\n", bn / en, bb / eb }'
