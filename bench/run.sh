#!/usr/bin/env bash
# npm run bench: every figure of issue #14 as a ratio against its physical limit, in one run, in
# one report (bench/RESULTS.md, printed too). Contenders of a figure run in the same run, one
# after the other, interleaved where they can run side by side:
#
#   raw 2.3 MB chunks       strato /kerchunk vs nginx serving the same bytes (1, 16, 64 connections, p99)
#   small responses         .zmetadata and 50 KB chunks vs nginx at 16 connections (as many workers)
#   per-request CPU         strato vs a bare node:http server answering the same bytes (bench/floor-server.ts)
#   processed cold          decoded MB/s vs the C codec limit (bench/codec-limit.py: numcodecs, one
#                           process per core), keepbits=10 + blosc-lz4, lossless lz4, zstd; also with
#                           a busy loop pinned to a core; --workers N vs 1; warm vs raw; second pass
#   parquet references      10M chunks: .zmetadata first byte cold, RSS under random chunks
#   how cost grows          chunk size 16 KB → 8 MB, catalog 1 → 10,000 datasets, references 1k → 10M
#   xarray client           the same reads through each
#
#   npm run bench               # ~10 min on 2 cores once the data exists (made once under bench/out)
#   QUICK=1 npm run bench       # ~2 min look: 30 days, 2 s runs, 1M parquet chunks
#
# Settings (environment; QUICK=1 changes the defaults): DAYS (365), DURATION (10s per wrk run),
# SOAK (30s; 0 skips), CONNECTIONS ("1 16 64"), WORKERS (strato processes, default nproc like
# nginx's worker_processes auto), GROW_DURATION (5s per growth run), FLOOR_DURATION (5s per
# per-request-CPU run), CODEC_SECONDS (5),
# CHUNK_SIZES (bytes), CATALOG_SIZES ("1 100 10000"), REF_SIZES ("1000 100000" plus
# PARQUET_CHUNKS, 10000000), XARRAY_STEPS (100), BENCH_DATA, GROWTH_DATA (data directories),
# GROWTH_MIB (64: bytes cut into chunks for the chunk-size table),
# RESULTS (output file), BUILD=0 (use dist/ as it is), NOTE (a line for the report's header),
# ONLY (some parts only, e.g. ONLY="fresh catalog"; see `section` below).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

if [ "${QUICK:-0}" = 1 ]; then
  : "${DAYS:=30}" "${DURATION:=2s}" "${SOAK:=0}" "${GROW_DURATION:=1s}" "${FLOOR_DURATION:=2s}" "${CODEC_SECONDS:=2}"
  : "${PARQUET_CHUNKS:=1000000}" "${REF_SIZES:=1000}" "${CATALOG_SIZES:=1 1000}" "${XARRAY_STEPS:=10}"
  : "${CHUNK_SIZES:=16384 51200 1048576 8388608}"
fi
DAYS=${DAYS:-365}
DURATION=${DURATION:-10s}
SOAK=${SOAK:-30s}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
WORKERS=${WORKERS:-$(nproc)}
GROW_DURATION=${GROW_DURATION:-5s}
FLOOR_DURATION=${FLOOR_DURATION:-5s}
CODEC_SECONDS=${CODEC_SECONDS:-5}
CHUNK_SIZES=${CHUNK_SIZES:-"16384 51200 262144 1048576 8388608"}
CATALOG_SIZES=${CATALOG_SIZES:-"1 100 10000"}
PARQUET_CHUNKS=${PARQUET_CHUNKS:-10000000}
REF_SIZES="${REF_SIZES:-1000 100000} $PARQUET_CHUNKS"
XARRAY_STEPS=${XARRAY_STEPS:-100}
DATA=${BENCH_DATA:-bench/out/days-$DAYS}
GROWTH=${GROWTH_DATA:-bench/out/growth}
RESULTS=${RESULTS:-bench/RESULTS.md}
WARM_CACHE_MIB=${WARM_CACHE_MIB:-200}   # of the 256 MiB encoded-chunk cache of each strato process
DECODED_CHUNK_BYTES=$(( 1440 * 721 * 4 ))
SMALL_CONNS=16
export DURATION
# ONLY="catalog fresh": run only these parts (raw chunk-size floor cold main one fresh parquet catalog);
# the report then leaves out what was not measured. Default: all of them.
ONLY=${ONLY:-}
section() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

started=$(date +%s)
command_line="${ONLY:+ONLY=\"$ONLY\" }DAYS=$DAYS DURATION=$DURATION SOAK=$SOAK CONNECTIONS=\"$CONNECTIONS\" WORKERS=$WORKERS PARQUET_CHUNKS=$PARQUET_CHUNKS"
[ "${QUICK:-0}" != 1 ] || command_line="QUICK=1 $command_line"
if [ "${npm_lifecycle_event:-}" = bench ]; then command_line+=" npm run bench"; else command_line+=" bash bench/run.sh"; fi
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)

bench_setup
bench_prerequisites
bench_data "$DATA" "$DAYS"
DATA=$(cd "$DATA" && pwd)
KEYS="$DATA/keys.txt"
OUT="$BENCH_TMP/results.jsonl"
: > "$OUT"
record() { echo "$1" >> "$OUT"; }
# with FIELDS JSON: JSON with the fields of the object FIELDS first (FIELDS without braces)
with() { echo "$2" | sed "s|^{|{$1,|"; }

# Growth data: one file of random bytes cut into chunks of each size (static copies for nginx).
GROWTH_MIB=${GROWTH_MIB:-64}
growth_stamp="sizes=$CHUNK_SIZES mib=$GROWTH_MIB $(md5sum < bench/make_growth_data.py | cut -c1-12)"
if [ "$(cat "$GROWTH/.complete" 2>/dev/null)" != "$growth_stamp" ]; then
  bench_log "making the chunk-size data in $GROWTH"
  rm -rf "$GROWTH"
  /usr/bin/python3 bench/make_growth_data.py "$GROWTH" --total-mib "$GROWTH_MIB" --sizes "$(echo $CHUNK_SIZES | tr ' ' ,)"
  chmod -R a+rX "$GROWTH"
  echo "$growth_stamp" > "$GROWTH/.complete"
fi
GROWTH=$(cd "$GROWTH" && pwd)

xarray_read() { # LABEL URL
  local result
  result=$(/usr/bin/python3 bench/xarray_read.py "$2" --steps "$XARRAY_STEPS")
  record "$(with "\"section\":\"xarray\",\"label\":\"$1\"" "$result")"
  bench_log "xarray $1: $result"
}

# measured GROUP LABEL BASE CONNS [SPEC] [EXTRA_FIELDS]: one wrk run of the server $SERVER_PID, recorded
measured() {
  local result extra=${6:-}
  result=$(measure "$2" "$3" "$4" "${5:-$KEYS}")
  bench_log "$1: $result"
  record "$(with "\"section\":\"load\",\"group\":\"$1\"${extra:+,$extra}" "$result")"
}

# swept GROUP LABEL BASE CONCURRENCY [EXTRA_FIELDS]: every key of $KEYS once, recorded
swept() {
  local result extra=${5:-}
  result=$(sweep_measure "$2" "$3" "$KEYS" "$4")
  bench_log "$1: $result"
  record "$(with "\"section\":\"load\",\"group\":\"$1\"${extra:+,$extra}" "$result")"
}

cat > "$DATA/bench-catalog.yaml" <<YAML
datasets:
  tas: {refs: refs/tas.json, title: Benchmark tas}
  kb10-lz4:
    refs: refs/tas.json
    processing: {keepbits: 10, compressor: {id: blosc, cname: lz4, clevel: 5, shuffle: 1}}
  lz4:
    refs: refs/tas.json
    processing: {compressor: {id: blosc, cname: lz4, clevel: 5, shuffle: 1}}
  kb10-zstd:
    refs: refs/tas.json
    processing: {keepbits: 10, compressor: {id: zstd, level: 1}}
sources:
  allow: [data/]
YAML
{
  echo 'datasets:'
  echo '  tas: {refs: days/refs/tas.json}'
  for size in $CHUNK_SIZES; do echo "  c$size: {refs: refs/chunk-$size.json}"; done
  echo 'sources:'
  echo '  allow: [data/, days/data/]'
} > "$GROWTH/chunks-catalog.yaml"
ln -sfn "$DATA" "$GROWTH/days"

# --- raw 2.3 MB chunks and .zmetadata: nginx and strato side by side, runs interleaved ----------
if section raw; then
start_nginx "$DATA/static"
start_strato "$DATA/bench-catalog.yaml" "$WORKERS"
bench_log "nginx on $NGINX_URL, strato on $STRATO_URL ($WORKERS workers)"
for c in $CONNECTIONS; do
  SERVER_PID=$NGINX_PID measured raw 'nginx' "$NGINX_URL/tas/kerchunk/" "$c"
  SERVER_PID=$STRATO_PID measured raw 'strato' "$STRATO_URL/datasets/tas/kerchunk/" "$c"
done
echo .zmetadata > "$BENCH_TMP/zmetadata-key.txt"
SERVER_PID=$NGINX_PID measured small 'nginx' "$NGINX_URL/tas/kerchunk/" "$SMALL_CONNS" "$BENCH_TMP/zmetadata-key.txt" '"request":".zmetadata"'
SERVER_PID=$STRATO_PID measured small 'strato' "$STRATO_URL/datasets/tas/kerchunk/" "$SMALL_CONNS" "$BENCH_TMP/zmetadata-key.txt" '"request":".zmetadata"'
xarray_read 'nginx static' "$NGINX_URL/tas/kerchunk"
xarray_read 'strato /kerchunk' "$STRATO_URL/datasets/tas/kerchunk"
stop_contender "$NGINX_PID"
stop_contender "$STRATO_PID"

fi

# --- how cost grows with chunk size, nginx and strato interleaved (50 KB: the small-chunk figure) -
if section chunk-size; then
start_nginx "$GROWTH/static"
start_strato "$GROWTH/chunks-catalog.yaml" "$WORKERS"
for size in $CHUNK_SIZES; do
  SERVER_PID=$NGINX_PID DURATION=$GROW_DURATION measured grow-chunk 'nginx' "$NGINX_URL/chunk-$size/kerchunk/" "$SMALL_CONNS" "$GROWTH/keys-$size.txt" "\"size\":$size"
  SERVER_PID=$STRATO_PID DURATION=$GROW_DURATION measured grow-chunk 'strato' "$STRATO_URL/datasets/c$size/kerchunk/" "$SMALL_CONNS" "$GROWTH/keys-$size.txt" "\"size\":$size"
done
stop_contender "$NGINX_PID"
stop_contender "$STRATO_PID"

fi

# --- per-request CPU: strato (1 process) vs a bare node:http server answering the same bytes -----
if section floor; then
start_strato "$GROWTH/chunks-catalog.yaml" 1
FLOOR_CHUNK=$(echo $CHUNK_SIZES | tr ' ' '\n' | grep -x 51200 || echo $CHUNK_SIZES | cut -d' ' -f1)
start_floor "$STRATO_URL" /datasets/tas/kerchunk/.zmetadata "/datasets/c$FLOOR_CHUNK/kerchunk/x/0"
echo x/0 > "$BENCH_TMP/chunk-key.txt"; echo .zmetadata > "$BENCH_TMP/zmetadata-key.txt" # (also made by the small-responses part; ONLY=floor runs without it)
for request in .zmetadata "$FLOOR_CHUNK B chunk"; do
  if [ "$request" = .zmetadata ]; then path=/datasets/tas/kerchunk/; keys=$BENCH_TMP/zmetadata-key.txt
  else path=/datasets/c$FLOOR_CHUNK/kerchunk/; keys=$BENCH_TMP/chunk-key.txt; fi
  SERVER_PID=$FLOOR_PID DURATION=$FLOOR_DURATION measured floor 'node:http floor' "$FLOOR_URL$path" "$SMALL_CONNS" "$keys" "\"request\":\"$request\""
  SERVER_PID=$STRATO_PID DURATION=$FLOOR_DURATION measured floor 'strato' "$STRATO_URL$path" "$SMALL_CONNS" "$keys" "\"request\":\"$request\""
done
stop_contender "$FLOOR_PID"
stop_contender "$STRATO_PID"

fi

# --- processed cold vs the C codec limit --------------------------------------------------------
codec_limit() { # [--busy]
  local line
  touch_memory
  while read -r line; do
    bench_log "codec limit: $line"
    record "$(with '"section":"codec"' "$line")"
  done < <(/usr/bin/python3 bench/codec-limit.py "$DATA/static/tas/kerchunk/tas" --seconds "$CODEC_SECONDS" "$@")
}
# cold DATASET CONCURRENCY WORKERS [busy]: a fresh strato, every day once; leaves it running
cold() {
  start_strato "$DATA/bench-catalog.yaml" "$3"
  SERVER_PID=$STRATO_PID
  [ "${4:-}" != busy ] || busy_start
  swept cold "strato $1" "$STRATO_URL/datasets/$1/zarr/" "$2" "\"dataset\":\"$1\",\"workers\":$3,\"busy\":$([ "${4:-}" = busy ] && echo true || echo false),\"pass\":1"
  busy_stop
}
if section cold; then
codec_limit
cold kb10-lz4 4 "$WORKERS"; stop_contender "$STRATO_PID"
cold lz4 16 "$WORKERS"; stop_contender "$STRATO_PID"
cold kb10-zstd 16 "$WORKERS"; stop_contender "$STRATO_PID"
codec_limit --busy --variants decode,kb10-lz4
cold kb10-lz4 16 "$WORKERS" busy; stop_contender "$STRATO_PID"

fi

# The main processed server: cold, second pass over the same days, warm loads, soak, xarray.
warm_runs() { # WORKERS CONNECTIONS...
  local workers=$1 c encoded_chunk warm_keys _
  shift
  encoded_chunk=$(tail -1 "$OUT" | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(Math.ceil(r.bytes / r.requests))')
  warm_keys=$(( WARM_CACHE_MIB * 1048576 / encoded_chunk ))
  [ "$warm_keys" -le "$DAYS" ] || warm_keys=$DAYS
  head -n "$warm_keys" "$KEYS" > "$BENCH_TMP/warm-keys.txt"
  # One single-connection sweep per worker: the primary hands connections to its workers in turn,
  # so every worker computes every warm key once; then a short random run.
  local warmers=()
  for _ in $(seq "$workers"); do
    node bench/.build/bench/sweep.js "$STRATO_URL/datasets/kb10-lz4/zarr/" "$BENCH_TMP/warm-keys.txt" --concurrency 1 > /dev/null &
    warmers+=($!)
  done
  wait "${warmers[@]}"
  DURATION=2s measure warm-up "$STRATO_URL/datasets/kb10-lz4/zarr/" 16 "$BENCH_TMP/warm-keys.txt" > /dev/null
  for c in "$@"; do
    measured warm 'strato kb10-lz4' "$STRATO_URL/datasets/kb10-lz4/zarr/" "$c" "$BENCH_TMP/warm-keys.txt" "\"workers\":$workers,\"warmKeys\":$warm_keys"
  done
}
if section main; then
cold kb10-lz4 16 "$WORKERS"
swept cold "strato kb10-lz4" "$STRATO_URL/datasets/kb10-lz4/zarr/" 16 "\"dataset\":\"kb10-lz4\",\"workers\":$WORKERS,\"busy\":false,\"pass\":2"
warm_runs "$WORKERS" $CONNECTIONS
if [ "$SOAK" != 0 ]; then
  soak=$(DURATION=$SOAK measure 'strato kb10-lz4' "$STRATO_URL/datasets/kb10-lz4/zarr/" 64 "$BENCH_TMP/warm-keys.txt")
  bench_log "soak: $soak"
  record "$(with '"section":"soak"' "$soak")"
fi
xarray_read 'strato /zarr' "$STRATO_URL/datasets/kb10-lz4/zarr"
stop_contender "$STRATO_PID"

fi

# One process: cold, second pass (cache hits counted by its /metrics), warm.
if section one; then
cold kb10-lz4 16 1
hits0=$(metric_sum "$STRATO_URL" strato_cache_hits_total 'cache="encoded"')
second=$(sweep_measure "strato kb10-lz4" "$STRATO_URL/datasets/kb10-lz4/zarr/" "$KEYS" 16)
hits=$(( $(metric_sum "$STRATO_URL" strato_cache_hits_total 'cache="encoded"') - hits0 ))
bench_log "cold, second pass: $second, $hits encoded-cache hits"
record "$(with "\"section\":\"load\",\"group\":\"cold\",\"dataset\":\"kb10-lz4\",\"workers\":1,\"busy\":false,\"pass\":2,\"hits\":$hits" "$second")"
warm_runs 1 16
stop_contender "$STRATO_PID"
fi

# Fresh processes (FRESH_RUNS, 3): the first processed chunks of each, one request at a time
# (each a different day, nothing cached), and its start → listening time (what warming costs).
if section fresh; then
for _ in $(seq "${FRESH_RUNS:-3}"); do
  start_strato "$DATA/bench-catalog.yaml" 1
  listen_ms=$(( $(now_ms) - STRATO_START_MS ))
  fresh=()
  for key in $(tail -n 6 "$KEYS"); do fresh+=("$(curl -s -o /dev/null -w '%{time_total}' "$STRATO_URL/datasets/kb10-lz4/zarr/$key" | awk '{ printf "%.1f", $1 * 1000 }')"); done
  stop_contender "$STRATO_PID"
  bench_log "fresh process (listening after $listen_ms ms), first processed chunks one at a time (ms): ${fresh[*]}"
  record "{\"section\":\"fresh\",\"listenMs\":$listen_ms,\"ms\":[$(IFS=,; echo "${fresh[*]}")]}"
done
fi
record "{\"section\":\"data\",\"days\":$DAYS,\"chunkMib\":$(( $(du -sb "$DATA/static/tas/kerchunk/tas" | cut -f1) / 1048576 )),\"decodedChunkBytes\":$DECODED_CHUNK_BYTES,\"workers\":$WORKERS}"

# --- parquet reference sets, 1k → 10M chunks: cold start, load, memory -------------------------
if section parquet; then
for chunks in $REF_SIZES; do
  dir="$DATA/refs/tas-parquet-$chunks"
  generate_seconds=null
  stamp="chunks=$chunks $(cat bench/make-parquet-refs.ts "$STRATO_DIST/kerchunk/parquet-writer.js" | md5sum | cut -c1-12)"
  if [ "$(cat "$dir.complete" 2>/dev/null)" != "$stamp" ]; then
    bench_log "writing $chunks parquet chunk references"
    rm -rf "$dir" "$dir.complete"
    summary=$(node bench/.build/bench/make-parquet-refs.js "$DATA/refs/tas.json" "$dir" --chunks "$chunks")
    generate_seconds=$(echo "$summary" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).seconds)')
    echo "$stamp" > "$dir.complete"
  fi
  printf 'datasets:\n  refs%s: {refs: refs/tas-parquet-%s}\nsources:\n  allow: [data/]\n' "$chunks" "$chunks" > "$DATA/parquet-$chunks.yaml"
  start_strato "$DATA/parquet-$chunks.yaml" 1
  listen_ms=$(( $(now_ms) - STRATO_START_MS ))
  SERVER_PID=$STRATO_PID
  zmetadata_ms=$(first_byte_ms "$STRATO_URL/datasets/refs$chunks/kerchunk/.zmetadata")
  first_chunk_ms=$(first_byte_ms "$STRATO_URL/datasets/refs$chunks/kerchunk/tas/$(( (RANDOM * 32768 + RANDOM) % chunks )).0.0")
  idle_rss=$(( $(rss_kib "$STRATO_PID") / 1024 ))
  record "{\"section\":\"parquet\",\"chunks\":$chunks,\"recordFiles\":$(find "$dir" -name '*.parq' | wc -l),\"generateSeconds\":$generate_seconds,\"listenMs\":$listen_ms,\"zmetadataMs\":$zmetadata_ms,\"firstChunkMs\":$first_chunk_ms,\"idleRss\":$idle_rss}"
  bench_log "parquet $chunks: listening after $listen_ms ms, .zmetadata $zmetadata_ms ms, first chunk $first_chunk_ms ms, RSS $idle_rss MiB"
  d=$GROW_DURATION
  [ "$chunks" != "$PARQUET_CHUNKS" ] || d=$DURATION
  DURATION=$d measured grow-refs 'strato' "$STRATO_URL/datasets/refs$chunks/kerchunk/" "$SMALL_CONNS" "$chunks:tas/%d.0.0" "\"chunks\":$chunks"
  stop_contender "$STRATO_PID"
done

fi

# --- catalog 1 → 10,000 datasets: the chunk path must not grow with it --------------------------
if section catalog; then
for datasets in $CATALOG_SIZES; do
  catalog="$GROWTH/catalog-$datasets.yaml"
  {
    echo 'datasets:'
    for i in $(seq 0 $(( datasets - 1 ))); do echo "  d$i: {refs: refs/entry.json}"; done
    echo 'sources:'
    echo '  allow: [data/]'
  } > "$catalog"
  awk -v n="$datasets" 'BEGIN { srand(7); for (i = 0; i < 4000; i++) printf "d%d/kerchunk/x/%d\n", int(rand() * n), int(rand() * 16) }' > "$BENCH_TMP/catalog-keys.txt"
  start_strato "$catalog" 1
  listen_ms=$(( $(now_ms) - STRATO_START_MS ))
  SERVER_PID=$STRATO_PID
  first_ms=$(first_byte_ms "$STRATO_URL/datasets/$(head -1 "$BENCH_TMP/catalog-keys.txt")")
  idle_rss=$(( $(rss_kib "$STRATO_PID") / 1024 ))
  # First touches: one chunk of every dataset, each once (its views are opened then), measured on
  # their own; the load after it is the steady chunk path, every dataset already touched.
  awk -v n="$datasets" 'BEGIN { for (i = 0; i < n; i++) printf "d%d/kerchunk/x/%d\n", i, i % 16 }' > "$BENCH_TMP/catalog-touch.txt"
  KEYS=$BENCH_TMP/catalog-touch.txt swept grow-catalog-touch 'strato' "$STRATO_URL/datasets/" "$SMALL_CONNS" "\"datasets\":$datasets"
  DURATION=$GROW_DURATION measured grow-catalog 'strato' "$STRATO_URL/datasets/" "$SMALL_CONNS" "$BENCH_TMP/catalog-keys.txt" \
    "\"datasets\":$datasets,\"listenMs\":$listen_ms,\"firstMs\":$first_ms,\"idleRss\":$idle_rss"
  stop_contender "$STRATO_PID"
done

fi

# --- the report ---------------------------------------------------------------------------------
mkdir -p "$(dirname "$RESULTS")"
BENCH_COMMAND="$command_line" BENCH_LOADAVG="$loadavg" BENCH_DURATION="$DURATION" BENCH_SOAK="$SOAK" BENCH_WORKERS="$WORKERS" \
  BENCH_GROW_DURATION="$GROW_DURATION" BENCH_GROWTH_MIB="$GROWTH_MIB" BENCH_CODEC_SECONDS="$CODEC_SECONDS" BENCH_NOTE="${NOTE:-}" \
  BENCH_ELAPSED="$(( $(date +%s) - started ))" bench_report "$OUT" > "$RESULTS.tmp"
cp "$OUT" "${RESULTS%.md}.jsonl"
mv "$RESULTS.tmp" "$RESULTS"
cat "$RESULTS"
