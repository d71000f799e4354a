#!/usr/bin/env bash
# Processed view (/zarr) throughput in decoded MB/s, cold (every chunk computed) and warm (from
# the encoded-chunk cache), and the compression ratio with and without keepbits=10.
#
#   bash bench/processed-view.sh            # DAYS=60 CONCURRENCY=4
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${DAYS:-60}
CONCURRENCY=${CONCURRENCY:-4}
OUT=$(mktemp -d -t strato-bench-XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$OUT"; }
trap cleanup EXIT
[ -f dist/server/cli.js ] || npm run --silent build
echo "making $DAYS days of 1440x721 float32 in $OUT ..." >&2
/usr/bin/python3 bench/make_bench_data.py "$OUT" --days "$DAYS"
cat > "$OUT/catalog.yaml" <<YAML
datasets:
  lossless: {refs: refs/tas.json, processing: {compressor: {id: blosc, cname: lz4, clevel: 5, shuffle: 1}}}
  keepbits10: {refs: refs/tas.json, processing: {keepbits: 10, compressor: {id: blosc, cname: lz4, clevel: 5, shuffle: 1}}}
  zstd-keepbits10: {refs: refs/tas.json, processing: {keepbits: 10, compressor: {id: zstd, level: 1}}}
sources:
  allow: [data/]
YAML
node dist/server/cli.js serve --catalog "$OUT/catalog.yaml" --port 0 --log-level warn > "$OUT/strato.out" & pids+=($!)
for _ in $(seq 100); do grep -q 'listening on' "$OUT/strato.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$OUT/strato.out" | head -1)
SOURCE_BYTES=$(du -sb "$OUT/static" | cut -f1)
URL="$URL" KEYS="$OUT/keys.txt" CONCURRENCY="$CONCURRENCY" SOURCE_BYTES="$SOURCE_BYTES" node --input-type=module <<'JS'
import { readFileSync } from 'node:fs';
const keys = readFileSync(process.env.KEYS, 'utf8').trim().split('\n');
const decodedPerChunk = 1440 * 721 * 4;
const sourceBytes = Number(process.env.SOURCE_BYTES);
async function pass(dataset) {
  const queue = [...keys];
  let bytes = 0;
  const started = performance.now();
  const worker = async () => {
    for (let key = queue.shift(); key; key = queue.shift()) {
      const response = await fetch(`${process.env.URL}/datasets/${dataset}/zarr/${key}`);
      if (!response.ok) throw new Error(`${response.status} for ${key}`);
      bytes += (await response.arrayBuffer()).byteLength;
    }
  };
  await Promise.all(Array.from({ length: Number(process.env.CONCURRENCY) }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { seconds, bytes, mbps: (keys.length * decodedPerChunk) / seconds / 1e6 };
}
console.log(`processed view, ${keys.length} chunks of 1440x721 float32 (${(decodedPerChunk / 1e6).toFixed(1)} MB decoded each), concurrency ${process.env.CONCURRENCY}`);
console.log(`source (zlib+shuffle NetCDF4 chunks): ${(sourceBytes / 1e6).toFixed(1)} MB, ratio ${((keys.length * decodedPerChunk) / sourceBytes).toFixed(2)}`);
console.log('dataset            cold MB/s  warm MB/s  encoded MB  ratio');
for (const dataset of ['lossless', 'keepbits10', 'zstd-keepbits10']) {
  const cold = await pass(dataset);
  const warm = await pass(dataset);
  const ratio = (keys.length * decodedPerChunk) / cold.bytes;
  console.log(`${dataset.padEnd(18)} ${cold.mbps.toFixed(0).padStart(9)} ${warm.mbps.toFixed(0).padStart(10)} ${(cold.bytes / 1e6).toFixed(1).padStart(11)} ${ratio.toFixed(2).padStart(6)}`);
}
JS
