#!/usr/bin/env bash
# Raw view chunk throughput next to the physical limit, nginx serving the same chunk bytes from a
# static copy; the first part of `npm run bench` on its own. Random chunk keys, wrk on loopback,
# each contender in turn, one table at the end.
#
#   bash bench/raw-vs-nginx.sh            # DAYS=60 DURATION=10s CONNECTIONS="1 16 64"
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DAYS=${DAYS:-60}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
WORKERS=${WORKERS:-$(nproc)}   # strato processes, like nginx's worker_processes auto
DATA=${BENCH_DATA:-bench/out/days-$DAYS}
export DURATION
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)

bench_setup
BUILD=${BUILD:-0} bench_prerequisites
bench_data "$DATA" "$DAYS"
DATA=$(cd "$DATA" && pwd)
KEYS="$DATA/keys.txt"
OUT="$BENCH_TMP/results.jsonl"

start_nginx "$DATA/static"
start_strato "$DATA/catalog.yaml" "$WORKERS"
for c in $CONNECTIONS; do
  SERVER_PID=$NGINX_PID measure nginx "$NGINX_URL/tas/kerchunk/" "$c" | sed 's|^{|{"section":"load","group":"raw",|' >> "$OUT"
  SERVER_PID=$STRATO_PID measure strato "$STRATO_URL/datasets/tas/kerchunk/" "$c" | sed 's|^{|{"section":"load","group":"raw",|' >> "$OUT"
done
echo "{\"section\":\"data\",\"days\":$DAYS,\"chunkMib\":$(( $(du -sb "$DATA/static/tas/kerchunk/tas" | cut -f1) / 1048576 )),\"decodedChunkBytes\":$(( 1440 * 721 * 4 )),\"workers\":$WORKERS}" >> "$OUT"
BENCH_COMMAND="DAYS=$DAYS DURATION=$DURATION CONNECTIONS=\"$CONNECTIONS\" WORKERS=$WORKERS bash bench/raw-vs-nginx.sh" \
  BENCH_LOADAVG="$loadavg" BENCH_DURATION="$DURATION" BENCH_WORKERS="$WORKERS" bench_report "$OUT"
