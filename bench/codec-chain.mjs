#!/usr/bin/env node
// The processed view's cold codec chain in isolation, one thread, strato's own codecs: the node
// twin of codec-limit.py (same store, same variants), for CPU per chunk next to numcodecs'.
//
//   node bench/codec-chain.mjs STORE_ARRAY_DIR [--from dist] [--seconds 5] [--max-chunks 32]
//        [--variants inflate,decode,lz4,kb10-lz4,frame,frame-kb10,bitround]
//
// STORE_ARRAY_DIR: a Zarr v2 array of NetCDF4 chunks (zlib with an HDF5 shuffle filter), e.g.
// bench/out/days-365/static/tas/kerchunk/tas. --from: a compiled strato (dist/ after
// `npm run build`, or another tsc output dir with the addon under build/Release above it).
// Variants as codec-limit.py's, plus the steps alone on chunks decoded beforehand: `frame`
// (blosc lz4 encode of lossless data), `frame-kb10` (of bit-rounded data), `bitround`
// (in place, on a copy made outside the timed part), `unshuffle` (HDF5 shuffle decode).
// `pool-kb10-lz4`: the kb10-lz4 chain as the server runs it: decode and encode on a CodecPool of
// --threads worker threads (inputs handed over), bit rounding on this thread, --concurrency chunks
// at a time (CPU of the whole process: every thread).
// Prints one JSON line per variant: CPU ms per chunk (process.cpuUsage: this thread, V8's
// helper threads and GC included), wall ms per chunk, mean encoded bytes.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    from: { type: 'string', default: 'dist' },
    seconds: { type: 'string', default: '5' },
    'max-chunks': { type: 'string', default: '32' },
    variants: { type: 'string', default: 'inflate,unshuffle,decode,bitround,frame,frame-kb10,lz4,kb10-lz4,pool-kb10-lz4' },
    threads: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
  },
});
const store = positionals[0];
if (!store) {
  console.error('usage: node bench/codec-chain.mjs STORE_ARRAY_DIR [--from dist] [--seconds 5] [--max-chunks 32] [--variants ...]');
  process.exit(2);
}
const from = resolve(opts.from);
const load = (path) => import(pathToFileURL(resolve(from, path)).href);
const { decodeChunk, encodeChunk } = await load('kerchunk/codecs/chunk.js');
const { bitRoundValuesInPlace } = await load('kerchunk/codecs/bitround.js');
const { nativeCodecs } = await load('kerchunk/codecs/native.js');
const { codecFromConfig } = await load('kerchunk/codecs/registry.js');
const { CodecPool } = await load('kerchunk/codecs/codec-pool.js');

const zarray = JSON.parse(readFileSync(`${store}/.zarray`, 'utf8'));
const names = readdirSync(store)
  .filter((name) => !name.startsWith('.'))
  .sort((a, b) => Number(a.split('.')[0]) - Number(b.split('.')[0]))
  .slice(0, Number(opts['max-chunks']));
const chunks = names.map((name) => new Uint8Array(readFileSync(`${store}/${name}`)));
const source = { ...zarray };
const target = { ...zarray, filters: null, compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: Number(process.env.BLOCKSIZE ?? 0) } };
const decodedBytes = zarray.chunks.reduce((a, b) => a * b, 4);
const inflate = codecFromConfig(zarray.compressor, { dtype: zarray.dtype, maxDecodedBytes: decodedBytes });
const unshuffle = codecFromConfig(zarray.filters[0], { dtype: zarray.dtype, maxDecodedBytes: decodedBytes });
const decoded = await Promise.all(chunks.map((chunk) => decodeChunk(chunk, source)));
const rounded = decoded.map((bytes) => {
  const copy = new Float32Array(bytes.slice().buffer);
  bitRoundValuesInPlace(copy, 10);
  return new Uint8Array(copy.buffer);
});
const inflated = await Promise.all(chunks.map((chunk) => inflate.decode(chunk)));

/** One chunk of the variant: returns encoded bytes (0 when nothing is encoded). */
const work = {
  inflate: async (i) => (await inflate.decode(chunks[i])).byteLength * 0,
  unshuffle: async (i) => (await unshuffle.decode(inflated[i])).byteLength * 0,
  decode: async (i) => (await decodeChunk(chunks[i], source)).byteLength * 0,
  bitround: async (i) => {
    bitRoundValuesInPlace(new Float32Array(scratch[i].buffer), 10);
    return 0;
  },
  frame: async (i) => (await encodeChunk(decoded[i], target)).byteLength,
  'frame-kb10': async (i) => (await encodeChunk(rounded[i], target)).byteLength,
  lz4: async (i) => (await encodeChunk(await decodeChunk(chunks[i], source), target)).byteLength,
  'kb10-lz4': async (i) => {
    const bytes = await decodeChunk(chunks[i], source);
    bitRoundValuesInPlace(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2), 10);
    return (await encodeChunk(bytes, target)).byteLength;
  },
};
let scratch = [];
let pool;

/** The pool chain: every chunk once, `concurrency` at a time; returns the encoded bytes. */
async function poolPass() {
  pool ??= new CodecPool(Number(opts.threads));
  let next = 0;
  let encoded = 0;
  const lane = async () => {
    while (next < chunks.length) {
      const i = next++;
      const bytes = await pool.decode(chunks[i].slice(), source, { transfer: true });
      bitRoundValuesInPlace(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2), 10);
      const frame = await pool.encode(bytes, target, { transfer: true });
      encoded += frame.byteLength;
    }
  };
  await Promise.all(Array.from({ length: Number(opts.concurrency) }, lane));
  return encoded;
}

/** One pass over every chunk of a variant: the encoded bytes (0 when nothing is encoded). */
function passOf(variant) {
  if (variant === 'pool-kb10-lz4') return poolPass;
  const run = work[variant];
  if (!run) throw new Error(`unknown variant ${variant}; one of ${[...Object.keys(work), 'pool-kb10-lz4'].join(', ')}`);
  return async () => {
    let encoded = 0;
    for (let i = 0; i < chunks.length; i++) encoded += await run(i);
    return encoded;
  };
}

for (const variant of opts.variants.split(',')) {
  const pass = passOf(variant);
  scratch = decoded.map((bytes) => bytes.slice());
  await pass(); // warm-up: compile, grow scratch, start threads
  const deadline = performance.now() + Number(opts.seconds) * 1000;
  let done = 0;
  let encoded = 0;
  let cpu = 0;
  let sys = 0;
  let faults = 0;
  let wall = 0;
  while (performance.now() < deadline) {
    // bitround works in place: fresh copies, made outside the measured part
    if (variant === 'bitround') scratch = decoded.map((bytes) => bytes.slice());
    const faults0 = process.resourceUsage().minorPageFault;
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    encoded += await pass();
    wall += performance.now() - wall0;
    const used = process.cpuUsage(cpu0);
    faults += process.resourceUsage().minorPageFault - faults0;
    cpu += (used.user + used.system) / 1000;
    sys += used.system / 1000;
    done += chunks.length;
  }
  const line = {
    variant,
    chunks: done,
    cpuMsPerChunk: Number((cpu / done).toFixed(2)),
    sysMsPerChunk: Number((sys / done).toFixed(2)),
    faultsPerChunk: Math.round(faults / done),
    wallMsPerChunk: Number((wall / done).toFixed(2)),
    decodedMBps: Number(((done * decodedBytes) / wall / 1000).toFixed(1)),
    encodedBytes: encoded ? Math.round(encoded / done) : null,
    native: nativeCodecs ? { libdeflate: nativeCodecs.hasLibdeflate, liblz4: nativeCodecs.hasLiblz4 ?? false } : false,
  };
  if (variant === 'pool-kb10-lz4') line.threads = pool.size;
  console.log(JSON.stringify(line));
}
await pool?.close();
