#!/usr/bin/env bash
# bench/gateway.sh — throughput and latency of `sunset gateway` (a 50-feature plan in the
# deprecated phase) against a bare httputil.ReverseProxy, Caddy's reverse_proxy and nginx's
# proxy_pass, all in front of the same tiny Go backend, on 127.0.0.1 only.
#
#   sudo apt-get install -y wrk caddy nginx     # Debian packages
#   bench/gateway.sh                            # DURATION=10s CONNECTIONS=64 THREADS=2 to change
#
# Each row is one bounded wrk run (after a short warm-up). CPU per request is the proxy
# process's user+system time over the run divided by the requests it served. Everything shares
# the machine's cores (wrk, proxy, backend), so figures are whole-box throughput.
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
BASE=${BASE_PORT:-19100}
for tool in wrk caddy nginx go curl; do
  command -v "$tool" >/dev/null || { echo "bench/gateway.sh: $tool is missing (apt-get install -y wrk caddy nginx)" >&2; exit 1; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building…" >&2
(cd "$root" && go build -o "$work/sunset" ./cmd/sunset && go build -o "$work/backend" ./bench/gateway/backend && go build -o "$work/bareproxy" ./bench/gateway/bareproxy)

backend=127.0.0.1:$BASE
bare=127.0.0.1:$((BASE + 1))
gw=127.0.0.1:$((BASE + 2))
caddy_addr=127.0.0.1:$((BASE + 3))
nginx_addr=127.0.0.1:$((BASE + 4))

# A 50-feature plan; --now puts it in the deprecated phase, outside any brownout window.
{
  cat <<'YAML'
service: {name: bench-api, timezone: UTC, docs: "https://example.com/sunset"}
alternatives: [{name: v2, url: "https://example.com/v2", guide: "https://example.com/migrate"}]
consumers: {identify: {header: X-API-Key}}
milestones: {announce: 2027-01-05T10:00, deprecate: 2027-01-05T10:00, read_only: 2027-03-01T02:00, shutdown: 2027-03-15T02:00}
brownouts:
  - {from: shutdown-28d, every: "Tue,Thu 14:00", for: 15m, status: 503}
features:
YAML
  for i in $(seq 0 49); do
    echo "  - {name: f$i, routes: [\"GET /v1/r$i/{id}\", \"/v1/r$i/{id}/sub/\"]}"
  done
} > "$work/plan.yaml"

cat > "$work/Caddyfile" <<EOF2
{
	admin off
	auto_https off
}
http://$caddy_addr {
	reverse_proxy $backend
}
EOF2

cat > "$work/nginx.conf" <<EOF2
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fastcgi;
  uwsgi_temp_path $work/nginx-uwsgi;
  scgi_temp_path $work/nginx-scgi;
  upstream backend { server $backend; keepalive 128; }
  server {
    listen $nginx_addr;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
EOF2

# start runs a server in the background; its pid is left in $started.
start() { "$@" >"$work/$(basename "$1").log" 2>&1 & started=$!; pids+=("$started"); }
wait_port() {
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://$1/" && return 0; sleep 0.1; done
  echo "bench/gateway.sh: nothing answers on $1" >&2; exit 1
}

for addr in "$backend" "$bare" "$gw" "$caddy_addr" "$nginx_addr"; do
  if curl -s -o /dev/null "http://$addr/"; then echo "bench/gateway.sh: $addr is already in use (BASE_PORT=... to move)" >&2; exit 1; fi
done
start "$work/backend" -listen "$backend"; wait_port "$backend"
start "$work/bareproxy" -listen "$bare" -upstream "http://$backend"; bare_pid=$started; wait_port "$bare"
start "$work/sunset" gateway --plan "$work/plan.yaml" --upstream "http://$backend" --listen "$gw" \
  --admin "" --usage-file "$work/usage.jsonl" --now 2027-02-01T10:00:00Z; gw_pid=$started; wait_port "$gw"
start caddy run --config "$work/Caddyfile" --adapter caddyfile; caddy_pid=$started; wait_port "$caddy_addr"
start nginx -c "$work/nginx.conf" -e "$work/nginx-error.log"; nginx_pid=$started; wait_port "$nginx_addr"

# The gateway must really be enforcing the plan.
if ! curl -si -H 'X-API-Key: bench' "http://$gw/v1/r37/12345" | grep -q '^Deprecation: @'; then
  echo "bench/gateway.sh: the gateway does not send Deprecation headers" >&2; exit 1
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Sum over the process and its children (nginx workers).
tree_ticks() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null); do total=$((total + $(cpu_ticks "$p"))); done
  echo "$total"
}
hz=$(getconf CLK_TCK)

declare -A RPS P50 P99 CPU
run() { # name addr pid
  local name=$1 addr=$2 pid=$3 url="http://$2/v1/r37/12345"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H 'X-API-Key: bench' "$url" >/dev/null
  local before after out reqs
  before=$(tree_ticks "$pid")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H 'X-API-Key: bench' "$url")
  after=$(tree_ticks "$pid")
  RPS[$name]=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  P50[$name]=$(awk '$1 == "50%" {print $2}' <<<"$out")
  P99[$name]=$(awk '$1 == "99%" {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  if [ "$pid" != "-" ] && [ "${reqs:-0}" -gt 0 ]; then
    CPU[$name]=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$reqs" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  else
    CPU[$name]="-"
  fi
  if grep -q "Non-2xx" <<<"$out"; then echo "warning: $name answered non-2xx: $(grep Non-2xx <<<"$out")" >&2; fi
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, GET /v1/r37/12345" >&2
run backend "$backend" -
run bare-go-proxy "$bare" "$bare_pid"
run sunset-gateway "$gw" "$gw_pid"
run caddy "$caddy_addr" "$caddy_pid"
run nginx "$nginx_addr" "$nginx_pid"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '\n%-16s %10s %9s %9s %12s %9s %9s %9s\n' row "req/s" p50 p99 "cpu µs/req" "×bare" "×caddy" "×nginx"
for name in backend bare-go-proxy sunset-gateway caddy nginx; do
  printf '%-16s %10s %9s %9s %12s %9s %9s %9s\n' "$name" "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" "${CPU[$name]}" \
    "$(ratio "${RPS[$name]}" "${RPS[bare-go-proxy]}")" "$(ratio "${RPS[$name]}" "${RPS[caddy]}")" "$(ratio "${RPS[$name]}" "${RPS[nginx]}")"
done
echo
echo "targets for sunset-gateway: ≥1.3× bare, ≥1.2× caddy, ≥0.5× nginx, p99 ≤ caddy's, ≤ 50 µs CPU per request"
