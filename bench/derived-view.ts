/**
 * Cost of derived datasets (derive/), cold (every chunk computed from the source) and warm (from
 * the caches): every chunk of the derived variable fetched through /zarr, CONCURRENCY at a time,
 * from a strato in this process (a fresh one per dataset). Source MB/s: the whole source variable,
 * decoded, per second of the cold pass (every derivation here reads all of it once).
 *
 *   npx vite-node bench/derived-view.ts -- DIR [CONCURRENCY]
 *
 * DIR holds `refs/tas.json` and `data/tas.nc` of bench/make_bench_data.py (daily 1440×721 float32).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../server/log.js';
import { startServer } from '../server/serve.js';

const [dir = 'bench/out/days-30', concurrencyText = '2'] = process.argv.slice(2).filter((a) => a !== '--');
const concurrency = Number(concurrencyText);
const DERIVED: Record<string, string> = {
  'tas-monthly': '{from: tas, resample: {time: month}, reduce: mean}',
  'tas-daily-max': '{from: tas, resample: {time: day}, reduce: max}',
  'tas-fldmean': '{from: tas, reduce: mean, over: [lat, lon], weights: area}',
  'tas-clim-std': '{from: tas, groupby: time.month, reduce: std}',
};
const catalog = join(dir, 'derived-catalog.yaml');
await writeFile(
  catalog,
  `datasets:\n  tas: {refs: refs/tas.json}\n${Object.entries(DERIVED)
    .map(([id, d]) => `  ${id}:\n    derive: ${d}`)
    .join('\n')}\nsources:\n  allow: [data/]\n`,
);
// a fresh server per dataset: its cold pass finds no source chunk decoded yet
const start = () => startServer({ catalog, port: 0, host: '127.0.0.1', logger: createLogger('silent') });
let server = await start();
let url = server.url;
const sourceMeta = (await (await fetch(`${url}/datasets/tas/zarr/tas/.zarray`)).json()) as { shape: number[] };
const sourceBytes = sourceMeta.shape.reduce((a, b) => a * b, 4);

async function pass(id: string): Promise<{ seconds: number; chunks: number; bytes: number }> {
  const meta = (await (await fetch(`${url}/datasets/${id}/zarr/tas/.zarray`)).json()) as { shape: number[]; chunks: number[] };
  const counts = meta.shape.map((n, d) => Math.ceil(n / (meta.chunks[d] as number)));
  const keys: string[] = [];
  const walk = (prefix: number[]) => {
    if (prefix.length === counts.length) return void keys.push(`tas/${prefix.join('.') || '0'}`);
    for (let i = 0; i < (counts[prefix.length] as number); i++) walk([...prefix, i]);
  };
  walk([]);
  let next = 0;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        const response = await fetch(`${url}/datasets/${id}/zarr/${key}`);
        if (response.status !== 200) throw new Error(`${id}/${key}: ${response.status} ${await response.text()}`);
        bytes += (await response.arrayBuffer()).byteLength;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, chunks: keys.length, bytes };
}

console.log(`source: tas ${sourceMeta.shape.join('×')} float32 (${(sourceBytes / 1e6).toFixed(0)} MB decoded), concurrency ${concurrency}`);
console.log(
  `${'dataset'.padEnd(16)} ${'chunks'.padStart(6)} ${'cold s'.padStart(7)} ${'chunks/s'.padStart(9)} ${'src MB/s'.padStart(9)} ${'warm s'.padStart(7)} ${'chunks/s'.padStart(9)}`,
);
for (const id of Object.keys(DERIVED)) {
  await server.close();
  server = await start();
  url = server.url;
  const cold = await pass(id);
  const warm = await pass(id);
  console.log(
    `${id.padEnd(16)} ${String(cold.chunks).padStart(6)} ${cold.seconds.toFixed(2).padStart(7)} ${(cold.chunks / cold.seconds).toFixed(1).padStart(9)} ${(sourceBytes / 1e6 / cold.seconds).toFixed(0).padStart(9)} ${warm.seconds.toFixed(3).padStart(7)} ${(warm.chunks / warm.seconds).toFixed(0).padStart(9)}`,
  );
}
await server.close();
