/**
 * Per-request cost (issue #14): CPU µs per request of strato answering a `.zmetadata` and a 50 KB
 * chunk, next to a bare `node:http` server answering the same bytes with the same headers (the
 * floor for Node). Both run in this process, one after the other; wrk (loopback) drives each.
 *
 *   npm run build && node_modules/.bin/tsc -p bench/tsconfig.json && node bench/.build/bench/floor.js
 *   node bench/.build/bench/floor.js --duration 5s --connections 16 --json
 *
 * `.zmetadata`: the demo catalog's `tas-daily` raw view (`/datasets/tas-daily/kerchunk/.zmetadata`).
 * 50 KB chunk: a reference table written here into a temporary directory, one uint8 array of
 * 51200 bytes in one chunk, referenced as [file, 0, 51200] of a data file beside it
 * (`/datasets/chunk50k/kerchunk/x/0`), so strato reads it through its file source (from the
 * page cache) on every request, as the raw view does. CPU is `process.cpuUsage()` of this process
 * over each wrk run (the codec threads idle); wrk runs in its own process. Prints a Markdown table.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../server/log.js';
import { startServer } from '../server/serve.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5s' },
    connections: { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
  },
});

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CHUNK_BYTES = 50 * 1024;

interface Run {
  readonly label: string;
  readonly server: 'floor' | 'strato';
  readonly rps: number;
  readonly requests: number;
  readonly cpuUs: number;
  readonly usPerRequest: number;
}

/** Headers as strato sent them, minus those node:http writes itself (date, connection, keep-alive). */
function fixedHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name !== 'date' && name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding') out[name] = value;
  });
  return out;
}

function listen(server: Server): Promise<string> {
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** One wrk run against URL; CPU of this process over it. wrk runs asynchronously so the server here keeps answering. */
async function drive(label: string, server: 'floor' | 'strato', url: string): Promise<Run> {
  const before = process.cpuUsage();
  const output = await new Promise<string>((done, fail) => {
    const wrk = spawn('wrk', ['-t1', `-c${args.connections}`, `-d${args.duration}`, url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    wrk.stdout.on('data', (piece: Buffer) => {
      text += piece.toString();
    });
    wrk.on('error', fail);
    wrk.on('close', (code) => (code === 0 ? done(text) : fail(new Error(`wrk exited with ${code}: ${text}`))));
  });
  const cpu = process.cpuUsage(before);
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? Number.NaN);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN);
  if (/Non-2xx|Socket errors/.test(output)) throw new Error(`${label} ${server}: errors in the wrk run\n${output}`);
  const cpuUs = cpu.user + cpu.system;
  return { label, server, rps, requests, cpuUs, usPerRequest: cpuUs / requests };
}

async function warm(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) await (await fetch(url)).arrayBuffer();
}

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install wrk)');
  const dir = mkdtempSync(join(tmpdir(), 'strato-floor-'));
  try {
    const chunk = randomBytes(CHUNK_BYTES);
    writeFileSync(join(dir, 'chunk.bin'), chunk);
    const refs = {
      version: 1,
      refs: {
        '.zgroup': JSON.stringify({ zarr_format: 2 }),
        '.zattrs': JSON.stringify({}),
        'x/.zarray': JSON.stringify({ zarr_format: 2, shape: [CHUNK_BYTES], chunks: [CHUNK_BYTES], dtype: '|u1', compressor: null, filters: null, fill_value: 0, order: 'C' }),
        'x/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'] }),
        'x/0': ['chunk.bin', 0, CHUNK_BYTES],
      },
    };
    writeFileSync(join(dir, 'chunk50k.json'), JSON.stringify(refs));
    const demo = join(root, 'demo');
    writeFileSync(
      join(dir, 'catalog.yaml'),
      [
        'datasets:',
        `  tas-daily: {refs: ${join(demo, 'refs/tas-daily.json')}, title: demo tas}`,
        `  chunk50k: {refs: ${join(dir, 'chunk50k.json')}, title: one 50 KB chunk}`,
        'sources:',
        `  allow: [${join(demo, 'data')}/, ${dir}/]`,
        '',
      ].join('\n'),
    );

    const strato = await startServer({ catalog: join(dir, 'catalog.yaml'), port: 0, host: '127.0.0.1', logger: createLogger('info'), codecThreads: 1 });
    const targets = [
      { label: '.zmetadata', path: '/datasets/tas-daily/kerchunk/.zmetadata' },
      { label: '50 KB chunk', path: '/datasets/chunk50k/kerchunk/x/0' },
    ];
    // what strato answers: the floor answers the same bytes with the same headers
    const answers = new Map<string, { body: Buffer; headers: Record<string, string> }>();
    for (const target of targets) {
      const response = await fetch(strato.url + target.path);
      if (response.status !== 200) throw new Error(`${target.path}: ${response.status}`);
      answers.set(target.path, { body: Buffer.from(await response.arrayBuffer()), headers: fixedHeaders(response.headers) });
    }
    const floor = createServer((request, response) => {
      const answer = answers.get(request.url ?? '');
      if (!answer) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, answer.headers as IncomingHttpHeaders).end(answer.body);
    });
    const floorUrl = await listen(floor);

    const runs: Run[] = [];
    for (const target of targets) {
      await warm(floorUrl + target.path);
      runs.push(await drive(target.label, 'floor', floorUrl + target.path));
      await warm(strato.url + target.path);
      runs.push(await drive(target.label, 'strato', strato.url + target.path));
    }
    await new Promise((done) => floor.close(done));
    await strato.close();

    if (args.json) {
      for (const run of runs) console.log(JSON.stringify(run));
      return;
    }
    console.log(`wrk -t1 -c${args.connections} -d${args.duration}, loopback; CPU of the server process (process.cpuUsage) per request`);
    console.log('');
    console.log('| request | floor req/s | floor µs/req | strato req/s | strato µs/req | ratio |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const target of targets) {
      const f = runs.find((run) => run.label === target.label && run.server === 'floor') as Run;
      const s = runs.find((run) => run.label === target.label && run.server === 'strato') as Run;
      console.log(
        `| ${target.label} | ${f.rps.toFixed(0)} | ${f.usPerRequest.toFixed(1)} | ${s.rps.toFixed(0)} | ${s.usPerRequest.toFixed(1)} | ${(s.usPerRequest / f.usPerRequest).toFixed(2)} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
