#!/usr/bin/env bash
# npm run bench: one command, one table. Makes the benchmark data once (bench/out/days-$DAYS, reused
# while DAYS and the chunk count stay the same), starts each contender on loopback in turn, runs
# bounded wrk loads of random chunk keys, and writes bench/RESULTS.md (printed too):
#
#   nginx serving the chunk bytes from a static copy of the store (the physical limit)
#   strato raw view (/kerchunk), processed view (/zarr: keepbits 10, blosc-lz4) cold and warm
#   a 64-connection soak on cached chunks
#   cold start of a 10-million-chunk parquet reference set: .zmetadata and first chunk, RSS
#   an xarray client reading the first 100 time steps from each
#
#   npm run bench                               # DAYS=365 DURATION=10s SOAK=60s CONNECTIONS="1 16 64"
#   DAYS=30 DURATION=3s SOAK=5s npm run bench   # a quick look
#
# Settings (environment): DAYS, DURATION, SOAK, CONNECTIONS, WORKERS (strato processes, default
# nproc like nginx's worker_processes auto), PARQUET_CHUNKS (10000000), XARRAY_STEPS (100),
# BENCH_DATA (data directory), RESULTS (output file), BUILD=0 (use dist/ as it is).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

DAYS=${DAYS:-365}
DURATION=${DURATION:-10s}
SOAK=${SOAK:-60s}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
WORKERS=${WORKERS:-$(nproc)}
PARQUET_CHUNKS=${PARQUET_CHUNKS:-10000000}
XARRAY_STEPS=${XARRAY_STEPS:-100}
DATA=${BENCH_DATA:-bench/out/days-$DAYS}
RESULTS=${RESULTS:-bench/RESULTS.md}
WARM_CACHE_MIB=${WARM_CACHE_MIB:-200}   # of the 256 MiB encoded-chunk cache of each strato process
DECODED_CHUNK_BYTES=$(( 1440 * 721 * 4 ))
export DURATION

started=$(date +%s)
command_line="DAYS=$DAYS DURATION=$DURATION SOAK=$SOAK CONNECTIONS=\"$CONNECTIONS\" WORKERS=$WORKERS PARQUET_CHUNKS=$PARQUET_CHUNKS"
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
tagged() { sed "s|^{|{\"section\":\"$1\",|"; }

xarray_read() { # LABEL URL
  local result
  result=$(/usr/bin/python3 bench/xarray_read.py "$2" --steps "$XARRAY_STEPS")
  record "$(echo "$result" | sed "s|^{|{\"section\":\"xarray\",\"label\":\"$1\",|")"
  bench_log "xarray $1: $result"
}

load_runs() { # LABEL BASE [SPEC]
  local c result
  for c in $CONNECTIONS; do
    result=$(measure "$1" "$2" "$c" "${3:-$KEYS}")
    bench_log "$result"
    record "$(echo "$result" | tagged load)"
  done
}

# --- nginx: the same chunk bytes from a static Zarr store -------------------------------------
start_nginx "$DATA/static"
SERVER_PID=$NGINX_PID
bench_log "nginx on $NGINX_URL"
load_runs 'nginx static' "$NGINX_URL/tas/kerchunk/"
xarray_read 'nginx static' "$NGINX_URL/tas/kerchunk"
stop_contender "$NGINX_PID"

# --- strato: raw and processed views of the same references ----------------------------------
cat > "$DATA/bench-catalog.yaml" <<YAML
datasets:
  tas: {refs: refs/tas.json, title: Benchmark tas}
  tas-processed:
    refs: refs/tas.json
    title: Benchmark tas, bit-rounded and re-compressed
    processing: {keepbits: 10, compressor: {id: blosc, cname: lz4, clevel: 5, shuffle: 1}}
sources:
  allow: [data/]
YAML
start_strato "$DATA/bench-catalog.yaml" "$WORKERS"
SERVER_PID=$STRATO_PID
bench_log "strato on $STRATO_URL ($WORKERS workers)"
load_runs 'strato /kerchunk' "$STRATO_URL/datasets/tas/kerchunk/"
xarray_read 'strato /kerchunk' "$STRATO_URL/datasets/tas/kerchunk"

cold=$(sweep_measure 'strato /zarr cold' "$STRATO_URL/datasets/tas-processed/zarr/" "$KEYS" 16)
bench_log "$cold"
record "$(echo "$cold" | tagged load)"
# Warm: the first days whose encoded chunks fit the cache of every worker, after a warm-up run.
encoded_chunk=$(echo "$cold" | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(Math.ceil(r.mbps * 1048576 / r.rps))')
warm_keys=$(( WARM_CACHE_MIB * 1048576 / encoded_chunk ))
[ "$warm_keys" -le "$DAYS" ] || warm_keys=$DAYS
head -n "$warm_keys" "$KEYS" > "$BENCH_TMP/warm-keys.txt"
# One single-connection sweep per worker: the primary hands connections to its workers in turn,
# so every worker computes every warm key once; then a short random run.
warmers=()
for _ in $(seq "$WORKERS"); do
  node bench/.build/bench/sweep.js "$STRATO_URL/datasets/tas-processed/zarr/" "$BENCH_TMP/warm-keys.txt" --concurrency 1 > /dev/null &
  warmers+=($!)
done
wait "${warmers[@]}"
DURATION=3s measure warm-up "$STRATO_URL/datasets/tas-processed/zarr/" 16 "$BENCH_TMP/warm-keys.txt" > /dev/null
load_runs 'strato /zarr warm' "$STRATO_URL/datasets/tas-processed/zarr/" "$BENCH_TMP/warm-keys.txt"
soak=$(DURATION=$SOAK measure 'strato /zarr warm' "$STRATO_URL/datasets/tas-processed/zarr/" 64 "$BENCH_TMP/warm-keys.txt")
bench_log "soak: $soak"
record "$(echo "$soak" | tagged soak)"
xarray_read 'strato /zarr' "$STRATO_URL/datasets/tas-processed/zarr"
stop_contender "$STRATO_PID"

chunk_mib=$(( $(du -sb "$DATA/static/tas/kerchunk/tas" | cut -f1) / 1048576 ))
record "{\"section\":\"data\",\"days\":$DAYS,\"chunkMib\":$chunk_mib,\"decodedChunkBytes\":$DECODED_CHUNK_BYTES,\"warmKeys\":$warm_keys}"

# --- 10 million parquet chunk references: cold start and memory ------------------------------
PARQUET_DIR="$DATA/refs/tas-parquet"
generate_seconds=null
parquet_stamp="chunks=$PARQUET_CHUNKS $(cat bench/make-parquet-refs.ts kerchunk/parquet-writer.ts | md5sum | cut -c1-12)"
if [ "$(cat "$PARQUET_DIR.complete" 2>/dev/null)" != "$parquet_stamp" ]; then
  bench_log "writing $PARQUET_CHUNKS parquet chunk references"
  rm -rf "$PARQUET_DIR" "$PARQUET_DIR.complete"
  summary=$(node bench/.build/bench/make-parquet-refs.js "$DATA/refs/tas.json" "$PARQUET_DIR" --chunks "$PARQUET_CHUNKS")
  bench_log "$summary"
  generate_seconds=$(echo "$summary" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).seconds)')
  echo "$parquet_stamp" > "$PARQUET_DIR.complete"
fi
record_files=$(find "$PARQUET_DIR" -name '*.parq' | wc -l)
cat > "$DATA/parquet-catalog.yaml" <<YAML
datasets:
  tas-parquet: {refs: refs/tas-parquet, title: "$PARQUET_CHUNKS time steps of tas, parquet references"}
sources:
  allow: [data/]
YAML
start_strato "$DATA/parquet-catalog.yaml" 1
listen_ms=$(( $(now_ms) - STRATO_START_MS ))
SERVER_PID=$STRATO_PID
read -r zmetadata_s zmetadata_bytes < <(curl -s -o /dev/null -w '%{time_starttransfer} %{size_download}\n' "$STRATO_URL/datasets/tas-parquet/kerchunk/.zmetadata")
first_key="tas/$(( (RANDOM * 32768 + RANDOM) % PARQUET_CHUNKS )).0.0"
first_chunk_s=$(curl -s -o /dev/null -w '%{time_starttransfer}\n' "$STRATO_URL/datasets/tas-parquet/kerchunk/$first_key")
idle_rss=$(( $(rss_kib "$STRATO_PID") / 1024 ))
record "$(ZS="$zmetadata_s" FS="$first_chunk_s" node -e 'console.log(JSON.stringify({ section: "parquet", chunks: '"$PARQUET_CHUNKS"', recordFiles: '"$record_files"',
  generateSeconds: '"$generate_seconds"', listenMs: '"$listen_ms"', zmetadataMs: Number(process.env.ZS) * 1000, zmetadataBytes: '"$zmetadata_bytes"',
  firstChunkMs: Number(process.env.FS) * 1000, idleRss: '"$idle_rss"', workers: 1 }))')"
bench_log "parquet: listening after ${listen_ms} ms, .zmetadata first byte ${zmetadata_s} s, $first_key ${first_chunk_s} s, RSS ${idle_rss} MiB"
result=$(measure 'parquet refs /kerchunk' "$STRATO_URL/datasets/tas-parquet/kerchunk/" 16 "$PARQUET_CHUNKS:tas/%d.0.0")
bench_log "$result"
record "$(echo "$result" | tagged load)"
stop_contender "$STRATO_PID"

# --- the table --------------------------------------------------------------------------------
mkdir -p "$(dirname "$RESULTS")"
BENCH_COMMAND="$command_line" BENCH_LOADAVG="$loadavg" BENCH_DURATION="$DURATION" BENCH_SOAK="$SOAK" BENCH_WORKERS="$WORKERS" \
  BENCH_ELAPSED="$(( $(date +%s) - started ))" bench_report "$OUT" > "$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
cat "$RESULTS"
