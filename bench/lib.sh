# Pieces the benchmark scripts share; source it from bash (set -euo pipefail) at the repo root.
#
#   bench_setup                          scratch dir $BENCH_TMP, stops every started contender on exit
#   bench_prerequisites                  wrk, nginx, Debian's python3 with xarray+zarr; dist/ built and copied
#                                        to $STRATO_DIST (what the run measures), bench/.build/ built
#   bench_data DIR DAYS                  make_bench_data.py output in DIR, made once and reused
#   free_port                            a free loopback TCP port
#   start_nginx ROOT                     nginx serving ROOT → $NGINX_URL, $NGINX_PID
#   start_strato CATALOG [WORKERS]       strato serve → $STRATO_URL, $STRATO_PID, $STRATO_START_MS
#                                        (an empty STRATO_CACHE_DIR of its own: nothing cached from before)
#   stop_contender PID                   SIGTERM, then wait until the whole process tree has gone
#   tree_pids PID                        PID and all its descendants (cluster workers, nginx workers)
#   cpu_ticks PID / rss_kib PID          utime+stime clock ticks / resident KiB, summed over the tree
#   rss_watch_start PID / rss_watch_stop peak tree RSS (MiB) sampled every 0.2 s in between
#   measure LABEL BASE CONNS [SPEC]      one wrk run of random keys (SPEC: keys file, or "N:PATTERN"
#                                        with %d for a random index below N) → JSON line of the result,
#                                        with the client's CPU (clientCpuMs) and how busy the machine was
#                                        (machineBusy: % of all its cores)
#   sweep_measure LABEL BASE KEYS CONC   every key once (bench/sweep.ts, curl --parallel) → JSON line, same fields
#   bench_report JSONL                   the Markdown report of those lines with the machine (bench/report.ts)
#   busy_start / busy_stop               a busy-loop process pinned to CPU 0 ("another job takes a core")
#   first_byte_ms URL                    ms from a fresh request's start to its first byte (curl)
#   metric_sum URL NAME [MATCH]          sum of a Prometheus counter's samples (lines matching MATCH)
#   start_floor STRATO_URL PATH...       the bare node:http floor (bench/floor-server.ts) → $FLOOR_URL, $FLOOR_PID
#
# Settings: DURATION (wrk run, default 10s), THREADS (wrk threads, default 2).

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_PIDS=()
CLK_TCK=$(getconf CLK_TCK)

bench_setup() {
  BENCH_TMP=$(mktemp -d -t strato-bench-XXXXXX)
  chmod 755 "$BENCH_TMP" # nginx workers run unprivileged
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local pid
  set +e # clean up everything, whatever failed
  for pid in "${BENCH_PIDS[@]}"; do stop_contender "$pid"; done
  rss_watch_stop >/dev/null 2>&1 || true
  rm -rf "$BENCH_TMP"
}

bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

bench_prerequisites() {
  if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null \
    || ! /usr/bin/python3 -c 'import xarray, zarr, fsspec, aiohttp, netCDF4, h5py' 2>/dev/null; then
    bash "$BENCH_ROOT/scripts/install-test-deps.sh"
  fi
  if [ "${BUILD:-1}" = 1 ] || [ ! -f "$BENCH_ROOT/dist/cli/cli.js" ]; then
    bench_log "building dist/ (BUILD=0 skips when it exists)"
    (cd "$BENCH_ROOT" && npm run --silent build)
  fi
  snapshot_dist
  "$BENCH_ROOT/node_modules/.bin/tsc" -p "$BENCH_ROOT/bench/tsconfig.json"
}

# The run measures a copy of dist/ (and of the native addon) in bench/.build, taken once: other
# work in the tree may rebuild dist/ while the run goes on. $STRATO_DIST is the copy.
STRATO_DIST="$BENCH_ROOT/bench/.build/dist"
snapshot_dist() {
  local copy="$BENCH_ROOT/bench/.build/dist.tmp" _
  mkdir -p "$BENCH_ROOT/bench/.build"
  for _ in $(seq 30); do
    rm -rf "$copy"
    if cp -r "$BENCH_ROOT/dist" "$copy" 2>/dev/null && node "$copy/cli/cli.js" --version >/dev/null 2>&1; then
      rm -rf "$STRATO_DIST"
      mv "$copy" "$STRATO_DIST"
      # the addon is found upwards from dist/kerchunk/codecs: build/Release beside the copy
      rm -rf "$BENCH_ROOT/bench/.build/build"
      if [ -d "$BENCH_ROOT/build/Release" ]; then
        mkdir -p "$BENCH_ROOT/bench/.build/build/Release"
        cp "$BENCH_ROOT"/build/Release/*.node "$BENCH_ROOT/bench/.build/build/Release/" 2>/dev/null || true
      fi
      # (the results of an earlier run are this run's output, not a change to what is measured)
      STRATO_REVISION="$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$BENCH_ROOT" diff --quiet HEAD -- . ':(exclude)bench/RESULTS.md' ':(exclude)bench/RESULTS.jsonl' 2>/dev/null || echo ' + uncommitted changes')"
      return
    fi
    bench_log "dist/ is being rebuilt; waiting for it"
    sleep 2
  done
  echo "no complete dist/ to measure (npm run build)" >&2
  return 1
}

# Benchmark data in DIR for DAYS days; reused when DIR holds a complete set for the same DAYS.
bench_data() {
  local dir=$1 days=$2 stamp
  # The generator's own hash too: data made by an older generator is made again.
  stamp="days=$days $(cat "$BENCH_ROOT/bench/make_bench_data.py" "$BENCH_ROOT/test/fixtures/make_netcdf.py" | md5sum | cut -c1-12)"
  if [ "$(cat "$dir/.complete" 2>/dev/null)" = "$stamp" ]; then
    bench_log "reusing $days days of data in $dir"
    return
  fi
  if [ -d "$dir" ] && [ ! -f "$dir/.bench-data" ] && [ -n "$(ls -A "$dir")" ]; then
    echo "$dir holds files that are not benchmark data; not replacing them (set BENCH_DATA)" >&2
    return 1
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  touch "$dir/.bench-data" # made by bench_data: may be replaced, even half made
  bench_log "making $days days of 1440x721 float32 (NetCDF4 zlib+shuffle, one chunk a day) in $dir"
  /usr/bin/python3 "$BENCH_ROOT/bench/make_bench_data.py" "$dir" --days "$days"
  chmod -R a+rX "$dir"
  echo "$stamp" > "$dir/.complete"
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

start_nginx() {
  local root=$1 port
  port=$(free_port)
  local dir="$BENCH_TMP/nginx-$port"
  mkdir -p "$dir"
  # As root, nginx would run its workers as nobody, who may not read a checkout under /root.
  local user_line=""
  [ "$(id -u)" != 0 ] || user_line="user root;"
  cat > "$dir/nginx.conf" <<CONF
$user_line
worker_processes auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/json zarray zattrs zgroup zmetadata; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port;
    root $root;
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" &
  NGINX_PID=$!
  BENCH_PIDS+=("$NGINX_PID")
  NGINX_URL="http://127.0.0.1:$port"
  local _
  for _ in $(seq 100); do
    curl -s -o /dev/null "$NGINX_URL/" && return
    sleep 0.05
  done
  echo "nginx did not start: $(cat "$dir/error.log")" >&2
  return 1
}

# This machine (a VM) hands free memory back to its host after a few seconds idle; a process
# touching it again pays for that in system time: ~2.1 ms per 1.8 MB instead of ~0.9 ms (node
# filling 365 buffers of 1.8 MB, right after a pause vs. right after another run), 1-3 ms per
# cold processed chunk. So whichever contender ran first after a pause paid more. Every strato
# start and every C codec limit run begins right after a throwaway process touched 1.5 GiB: all
# find the pages as a machine that has been running finds them.
touch_memory() {
  node -e 'const kept = []; for (let i = 0; i < 24; i++) kept.push(Buffer.alloc(64 << 20, 1));'
}

start_strato() {
  local catalog=$1 workers=${2:-1}
  touch_memory
  local log="$BENCH_TMP/strato-$RANDOM.out"
  # Every start gets an empty cache directory of its own (strato's disk tier, shared by its
  # workers and kept across restarts): a cold figure starts from nothing cached anywhere.
  # (mode 700: strato turns its disk tier off, with a warning, for a directory others may write)
  STRATO_CACHE_DIR="$BENCH_TMP/strato-cache-$(now_ms)-$RANDOM"
  mkdir -m 700 "$STRATO_CACHE_DIR"
  STRATO_START_MS=$(now_ms)
  STRATO_CACHE_DIR=$STRATO_CACHE_DIR node "$STRATO_DIST/cli/cli.js" serve --catalog "$catalog" --port 0 --workers "$workers" --log-level warn > "$log" 2> "$log.err" &
  STRATO_PID=$!
  BENCH_PIDS+=("$STRATO_PID")
  # a catalog of thousands of datasets takes seconds to open: wait up to STRATO_START_SECONDS (120)
  local deadline=$(( STRATO_START_MS + ${STRATO_START_SECONDS:-120} * 1000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if grep -q 'listening on' "$log" 2>/dev/null; then
      STRATO_URL=$(grep -o 'http://[^ ]*' "$log" | head -1)
      # a figure measured without the disk tier would not be the server users run
      if grep -q 'disk chunk cache off' "$log.err" 2>/dev/null; then
        echo "strato started without its disk tier: $(grep -m1 'disk chunk cache off' "$log.err")" >&2
        return 1
      fi
      return
    fi
    kill -0 "$STRATO_PID" 2>/dev/null || break
    sleep 0.01
  done
  echo "strato did not start: $(cat "$log" "$log.err")" >&2
  return 1
}

stop_contender() {
  local pid=$1 pids _
  pids=$(tree_pids "$pid")
  if [ -n "$pids" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do
      any_alive $pids || break
      sleep 0.05
    done
    # shellcheck disable=SC2086
    any_alive $pids && kill -KILL $pids 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
}

# True while one of the PIDs runs (a zombie waiting to be reaped does not count).
any_alive() {
  local pid stat
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    [ "${stat%% *}" = Z ] || return 0
  done
  return 1
}

tree_pids() {
  local pid=$1 child
  [ -d "/proc/$pid" ] || return 0
  echo "$pid"
  for child in $(pgrep -P "$pid" 2>/dev/null); do tree_pids "$child"; done
}

# utime + stime (fields 14 and 15 of /proc/PID/stat, counted after the ")" closing the name).
cpu_ticks() {
  local total=0 pid stat
  for pid in $(tree_pids "$1"); do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    read -r -a fields <<< "$stat"
    total=$(( total + fields[11] + fields[12] ))
  done
  echo "$total"
}

# Busy and total clock ticks of the whole machine (all cores), from /proc/stat: "BUSY TOTAL".
machine_ticks() {
  awk '/^cpu / { idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i; print total - idle, total; exit }' /proc/stat
}

# Percent of the machine's cores busy between two machine_ticks readings ("BUSY TOTAL" each).
machine_busy() {
  local b0 t0 b1 t1
  read -r b0 t0 <<< "$1"
  read -r b1 t1 <<< "$2"
  echo $(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
}

rss_kib() {
  local total=0 pid kib
  for pid in $(tree_pids "$1"); do
    kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
    total=$(( total + ${kib:-0} ))
  done
  echo "$total"
}

rss_watch_start() {
  local pid=$1
  RSS_WATCH_FILE="$BENCH_TMP/rss-peak-$pid"
  echo 0 > "$RSS_WATCH_FILE"
  (
    peak=0
    while :; do
      now=$(rss_kib "$pid")
      if [ "$now" -gt "$peak" ]; then peak=$now; echo "$peak" > "$RSS_WATCH_FILE.tmp" && mv "$RSS_WATCH_FILE.tmp" "$RSS_WATCH_FILE"; fi
      sleep 0.2
    done
  ) &
  RSS_WATCH_PID=$!
}

# Prints the peak in MiB.
rss_watch_stop() {
  [ -n "${RSS_WATCH_PID:-}" ] || return 1
  kill "$RSS_WATCH_PID" 2>/dev/null || true
  wait "$RSS_WATCH_PID" 2>/dev/null || true
  RSS_WATCH_PID=
  local peak
  peak=$(cat "$RSS_WATCH_FILE" 2>/dev/null)
  echo $(( ${peak:-0} / 1024 ))
}

# Writes the wrk script that requests random keys (once per run directory).
random_keys_script() {
  local script="$BENCH_TMP/random-keys.lua"
  [ -f "$script" ] || cat > "$script" <<'LUA'
-- Random keys: a line of KEYS_FILE, or PATTERN with %d a random index in [0, COUNT).
local keys, pattern, count = {}, os.getenv("PATTERN"), tonumber(os.getenv("COUNT") or "0")
local keys_file = os.getenv("KEYS_FILE")
if keys_file and keys_file ~= "" then
  for line in io.lines(keys_file) do keys[#keys + 1] = line end
end
local prefix = os.getenv("PREFIX")
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("seed", tonumber(os.getenv("SEED") or "1") * 1000 + thread_count)
end
function init(args) math.randomseed(seed or 1) end
request = function()
  if #keys > 0 then return wrk.format("GET", prefix .. keys[math.random(#keys)]) end
  return wrk.format("GET", prefix .. string.format(pattern, math.random(0, count - 1)))
end
LUA
  echo "$script"
}

# measure LABEL BASE_URL CONNECTIONS [SPEC] — BASE_URL includes the key prefix
# (http://127.0.0.1:8000/datasets/tas/kerchunk/). SPEC: a keys file (default $KEYS), or COUNT:PATTERN.
# The server is the process tree of $SERVER_PID. Prints a JSON line.
measure() {
  local label=$1 base=$2 connections=$3 spec=${4:-$KEYS}
  local threads=$(( connections < ${THREADS:-2} ? connections : ${THREADS:-2} ))
  local origin prefix keys_file="" count=0 pattern=""
  origin=$(echo "$base" | grep -o '^http://[^/]*')
  prefix=${base#"$origin"}
  if [ -f "$spec" ]; then keys_file=$spec; else count=${spec%%:*}; pattern=${spec#*:}; fi
  local script out="$BENCH_TMP/wrk-${label//[^A-Za-z0-9]/_}-$connections.txt"
  script=$(random_keys_script)
  local ticks0 ticks1 t0 t1 machine0 machine1 client
  rss_watch_start "$SERVER_PID"
  ticks0=$(cpu_ticks "$SERVER_PID"); t0=$(now_ms); machine0=$(machine_ticks)
  # the client's CPU too (user + system seconds of wrk): on a small machine it shares the cores
  client=$( { TIMEFORMAT='%U %S'; time KEYS_FILE="$keys_file" COUNT="$count" PATTERN="$pattern" PREFIX="$prefix" SEED="$connections" \
    wrk -t"$threads" -c"$connections" -d"${DURATION:-10s}" --timeout 10s --latency -s "$script" "$origin" > "$out"; } 2>&1 )
  ticks1=$(cpu_ticks "$SERVER_PID"); t1=$(now_ms); machine1=$(machine_ticks)
  local peak
  peak=$(rss_watch_stop)
  awk -v label="$label" -v conns="$connections" -v cpu="$(( (ticks1 - ticks0) * 100000 / CLK_TCK / (t1 - t0) ))" -v cpums="$(( (ticks1 - ticks0) * 1000 / CLK_TCK ))" -v rss="$peak" \
    -v clientms="$(echo "$client" | awk '{ printf "%d", ($1 + $2) * 1000 }')" -v busy="$(machine_busy "$machine0" "$machine1")" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    function mb(v) { if (v ~ /GB$/) return v * 1024; if (v ~ /MB$/) return v + 0; if (v ~ /KB$/) return v / 1024; return v / 1048576 }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /^Requests\/sec/ { rps = $2 } /^Transfer\/sec/ { mbs = mb($2) }
    /Non-2xx/ { errors += $NF }
    /Socket errors/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    / requests in / { requests = $1 }
    END { printf "{\"label\":\"%s\",\"conns\":%d,\"requests\":%d,\"rps\":%.1f,\"mbps\":%.1f,\"p50\":%.2f,\"p99\":%.2f,\"errors\":%d,\"cpu\":%.0f,\"cpuMs\":%d,\"rss\":%d,\"clientCpuMs\":%d,\"machineBusy\":%d}\n",
      label, conns, requests, rps, mbs, p50, p99, errors, cpu, cpums, rss, clientms, busy }' "$out"
}

# sweep_measure LABEL BASE_URL KEYS_FILE CONCURRENCY — every key once; same JSON fields as measure.
sweep_measure() {
  local label=$1 base=$2 keys_file=$3 concurrency=$4
  local ticks0 ticks1 t0 t1 result peak machine0 machine1
  rss_watch_start "$SERVER_PID"
  ticks0=$(cpu_ticks "$SERVER_PID"); t0=$(now_ms); machine0=$(machine_ticks)
  result=$(node "$BENCH_ROOT/bench/.build/bench/sweep.js" "$base" "$keys_file" --concurrency "$concurrency")
  ticks1=$(cpu_ticks "$SERVER_PID"); t1=$(now_ms); machine1=$(machine_ticks)
  peak=$(rss_watch_stop)
  LABEL="$label" CONNS="$concurrency" CPU="$(( (ticks1 - ticks0) * 100000 / CLK_TCK / (t1 - t0) ))" CPUMS="$(( (ticks1 - ticks0) * 1000 / CLK_TCK ))" RSS="$peak" RESULT="$result" \
    BUSY="$(machine_busy "$machine0" "$machine1")" node -e '
    const r = JSON.parse(process.env.RESULT);
    const e = process.env;
    console.log(JSON.stringify({ label: e.LABEL, conns: Number(e.CONNS), requests: r.requests, rps: r.rps, mbps: r.mbps, p50: r.p50, p99: r.p99,
      errors: r.errors, cpu: Number(e.CPU), cpuMs: Number(e.CPUMS), rss: Number(e.RSS), bytes: r.bytes, clientCpuMs: r.clientCpuMs, machineBusy: Number(e.BUSY) }))'
}

# bench_report RESULTS_JSONL — prints the Markdown report; the caller sets BENCH_COMMAND,
# BENCH_DURATION, BENCH_SOAK, BENCH_WORKERS, BENCH_LOADAVG, BENCH_ELAPSED as they apply.
bench_report() {
  BENCH_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" BENCH_NPROC="$(nproc)" \
    BENCH_CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    BENCH_MEMORY="$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)" BENCH_KERNEL="Linux $(uname -r)" \
    BENCH_NODE="$(node --version)" BENCH_NGINX="$(nginx -v 2>&1 | sed 's/^nginx version: //')" \
    BENCH_WRK="$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)" BENCH_STRATO="$(node -p "require('$BENCH_ROOT/package.json').version") (${STRATO_REVISION:-?})" \
    node "$BENCH_ROOT/bench/.build/bench/report.js" "$1"
}

busy_start() {
  taskset -c 0 /usr/bin/python3 -c 'while True: pass' &
  BUSY_PID=$!
  BENCH_PIDS+=("$BUSY_PID")
}

busy_stop() {
  [ -n "${BUSY_PID:-}" ] || return 0
  kill "$BUSY_PID" 2>/dev/null || true
  wait "$BUSY_PID" 2>/dev/null || true
  BUSY_PID=
}

first_byte_ms() {
  curl -s -o /dev/null -w '%{time_starttransfer}\n' "$1" | awk '{ printf "%.1f\n", $1 * 1000 }'
}

metric_sum() {
  curl -s "$1/metrics" | awk -v name="$2" -v match_="${3:-}" '
    index($0, name) == 1 && (match_ == "" || index($0, match_) > 0) { sum += $NF } END { print sum + 0 }'
}

start_floor() {
  local base=$1 log="$BENCH_TMP/floor-$RANDOM.out" _
  shift
  node "$BENCH_ROOT/bench/.build/bench/floor-server.js" "$base" "$@" > "$log" 2> "$log.err" &
  FLOOR_PID=$!
  BENCH_PIDS+=("$FLOOR_PID")
  for _ in $(seq 300); do
    if grep -q 'listening on' "$log" 2>/dev/null; then
      FLOOR_URL=$(grep -o 'http://[^ ]*' "$log" | head -1)
      return
    fi
    kill -0 "$FLOOR_PID" 2>/dev/null || break
    sleep 0.01
  done
  echo "floor server did not start: $(cat "$log" "$log.err")" >&2
  return 1
}
