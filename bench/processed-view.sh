#!/usr/bin/env bash
# Processed view (/zarr) throughput in decoded MB/s, cold (every chunk computed) and warm (from
# the encoded-chunk cache), and the compression ratio with and without keepbits=10: every chunk
# key once per pass (bench/sweep.ts), CONCURRENCY requests at a time, one strato process.
#
#   bash bench/processed-view.sh            # DAYS=60 CONCURRENCY=4
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DAYS=${DAYS:-60}
CONCURRENCY=${CONCURRENCY:-4}
DATA=${BENCH_DATA:-bench/out/days-$DAYS}

bench_setup
BUILD=${BUILD:-0} bench_prerequisites
bench_data "$DATA" "$DAYS"
DATA=$(cd "$DATA" && pwd)
cat > "$DATA/processed-catalog.yaml" <<YAML
datasets:
  lossless: {refs: refs/tas.json, processing: {compressor: {id: blosc, cname: lz4, clevel: 5, shuffle: 1}}}
  keepbits10: {refs: refs/tas.json, processing: {keepbits: 10, compressor: {id: blosc, cname: lz4, clevel: 5, shuffle: 1}}}
  zstd-keepbits10: {refs: refs/tas.json, processing: {keepbits: 10, compressor: {id: zstd, level: 1}}}
sources:
  allow: [data/]
YAML
start_strato "$DATA/processed-catalog.yaml" 1
SERVER_PID=$STRATO_PID
decoded=$(( $(wc -l < "$DATA/keys.txt") * 1440 * 721 * 4 ))
source_bytes=$(du -sb "$DATA/static/tas/kerchunk/tas" | cut -f1)
printf 'processed view, %s chunks of 1440x721 float32 (%s MB decoded), concurrency %s\n' "$DAYS" "$(( decoded / 1000000 ))" "$CONCURRENCY"
printf 'source (zlib+shuffle NetCDF4 chunks): %s MB, ratio %s\n' "$(( source_bytes / 1000000 ))" "$(awk -v d="$decoded" -v s="$source_bytes" 'BEGIN { printf "%.2f", d / s }')"
printf '%-18s %10s %10s %11s %6s %12s\n' dataset 'cold MB/s' 'warm MB/s' 'encoded MB' ratio 'server CPU %'
for dataset in lossless keepbits10 zstd-keepbits10; do
  cold=$(sweep_measure cold "$STRATO_URL/datasets/$dataset/zarr/" "$DATA/keys.txt" "$CONCURRENCY")
  warm=$(sweep_measure warm "$STRATO_URL/datasets/$dataset/zarr/" "$DATA/keys.txt" "$CONCURRENCY")
  COLD="$cold" WARM="$warm" DECODED="$decoded" DATASET="$dataset" node -e '
    const cold = JSON.parse(process.env.COLD), warm = JSON.parse(process.env.WARM), decoded = Number(process.env.DECODED);
    const mbps = (r) => (decoded / (r.requests / r.rps) / 1e6).toFixed(0);
    const encoded = (cold.mbps * 1048576 * cold.requests) / cold.rps;
    console.log(`${process.env.DATASET.padEnd(18)} ${mbps(cold).padStart(10)} ${mbps(warm).padStart(10)} ${(encoded / 1e6).toFixed(1).padStart(11)} ${(decoded / encoded).toFixed(2).padStart(6)} ${String(cold.cpu).padStart(12)}`);'
done
