#!/usr/bin/env bash
# Raw view chunk throughput next to the physical limit: nginx serving the same chunk bytes from a
# static copy. Random chunk keys, wrk on loopback, each contender in turn, one table at the end.
#
#   bash bench/raw-vs-nginx.sh            # DAYS=60 DURATION=10s CONNECTIONS="1 16 64"
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${DAYS:-60}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
WORKERS=${WORKERS:-$(nproc)}   # strato processes, like nginx's worker_processes auto
OUT=$(mktemp -d -t strato-bench-XXXXXX)
chmod 755 "$OUT"   # nginx workers run unprivileged
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$OUT"; }
trap cleanup EXIT

command -v wrk >/dev/null && command -v nginx >/dev/null || bash scripts/install-test-deps.sh
[ -f dist/server/cli.js ] || npm run --silent build
echo "making $DAYS days of 1440x721 float32 (zlib+shuffle, one chunk a day) in $OUT ..." >&2
/usr/bin/python3 bench/make_bench_data.py "$OUT" --days "$DAYS"
chunk_bytes=$(du -sb "$OUT/static" | cut -f1)
chunks=$(wc -l < "$OUT/keys.txt")

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
NGINX_PORT=$(free_port)
cat > "$OUT/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $OUT/nginx.pid;
error_log $OUT/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $OUT/static;
    location / { default_type application/octet-stream; }
  }
}
CONF
nginx -c "$OUT/nginx.conf" -p "$OUT" & pids+=($!)

node dist/server/cli.js serve --catalog "$OUT/catalog.yaml" --port 0 --workers "$WORKERS" --log-level warn > "$OUT/strato.out" & pids+=($!)
STRATO_PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$OUT/strato.out" 2>/dev/null && break; sleep 0.1; done
STRATO_URL=$(grep -o 'http://[^ ]*' "$OUT/strato.out" | head -1)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$NGINX_PORT/tas/kerchunk/$(head -1 "$OUT/keys.txt")" -o /dev/null && break; sleep 0.1; done

cat > "$OUT/random-keys.lua" <<'LUA'
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local prefix = os.getenv("PREFIX")
math.randomseed(tonumber(os.getenv("SEED") or "1"))
request = function()
  return wrk.format("GET", prefix .. keys[math.random(#keys)])
end
LUA

# one wrk run → "req/s MB/s p50 p99"
measure() {
  local base=$1 prefix=$2 connections=$3
  local threads=$(( connections < 2 ? 1 : 2 ))
  KEYS_FILE="$OUT/keys.txt" PREFIX="$prefix" SEED=$connections \
    wrk -t"$threads" -c"$connections" -d"$DURATION" --latency -s "$OUT/random-keys.lua" "$base" > "$OUT/wrk.txt"
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    function mb(v) { if (v ~ /GB$/) return v * 1024; if (v ~ /MB$/) return v + 0; if (v ~ /KB$/) return v / 1024; return v / 1048576 }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /^Requests\/sec/ { rps = $2 } /^Transfer\/sec/ { mbs = mb($2) }
    /Non-2xx/ { errors = $NF }
    END { printf "%.0f %.1f %.2f %.2f %d\n", rps, mbs, p50, p99, errors + 0 }' "$OUT/wrk.txt"
}

printf '\nraw view (/kerchunk) vs nginx static, %s chunks, %s MiB of chunk bytes, %s per run, %s cores\n' \
  "$chunks" "$(( chunk_bytes / 1048576 ))" "$DURATION" "$(nproc)"
printf '%-14s %5s %10s %9s %9s %9s %7s %9s\n' contender conns 'req/s' 'MB/s' 'p50 ms' 'p99 ms' 'non2xx' 'vs nginx'
for c in $CONNECTIONS; do
  read -r n_rps n_mbs n_p50 n_p99 n_err < <(measure "http://127.0.0.1:$NGINX_PORT" "/tas/kerchunk/" "$c")
  read -r s_rps s_mbs s_p50 s_p99 s_err < <(measure "$STRATO_URL" "/datasets/tas/kerchunk/" "$c")
  printf '%-14s %5s %10s %9s %9s %9s %7s %9s\n' nginx "$c" "$n_rps" "$n_mbs" "$n_p50" "$n_p99" "$n_err" '1.00'
  printf '%-14s %5s %10s %9s %9s %9s %7s %9s\n' strato-raw "$c" "$s_rps" "$s_mbs" "$s_p50" "$s_p99" "$s_err" \
    "$(awk -v a="$s_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
done
printf 'strato RSS after the runs (primary + workers): %s MiB\n' "$(( ($(ps -o rss= -p "$STRATO_PID") + $(ps -o rss= --ppid "$STRATO_PID" | awk '{s+=$1} END {print s+0}')) / 1024 ))"
