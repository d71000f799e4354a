/**
 * The per-request floor for Node (issue #14): a bare `node:http` server answering exactly the
 * bytes and headers strato answers for a few paths, and nothing else. bench/run.sh starts it as
 * its own process beside strato and drives both with the same wrk load, so the CPU each process
 * spends per request compares the cost of strato's request path with Node's own.
 *
 *   node bench/.build/bench/floor-server.js STRATO_URL PATH...
 *
 * Fetches each PATH from STRATO_URL once (it must answer 200), listens on a free loopback port and
 * prints `listening on http://127.0.0.1:PORT`. Unknown paths get an empty 404.
 */
import { createServer, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Headers node:http writes itself, or that describe the connection rather than the answer. */
const OWN_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

interface Answer {
  readonly body: Buffer;
  readonly headers: OutgoingHttpHeaders;
}

async function answerOf(url: string): Promise<Answer> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
  const headers: OutgoingHttpHeaders = Object.create(null) as OutgoingHttpHeaders;
  response.headers.forEach((value, name) => {
    if (!OWN_HEADERS.has(name)) headers[name] = value;
  });
  return { body: Buffer.from(await response.arrayBuffer()), headers };
}

async function main(): Promise<void> {
  const [base, ...paths] = process.argv.slice(2);
  if (base === undefined || paths.length === 0) throw new Error('usage: floor-server STRATO_URL PATH...');
  const answers = new Map<string, Answer>();
  for (const path of paths) answers.set(path, await answerOf(base + path));
  const server = createServer((request, response) => {
    const answer = answers.get(request.url ?? '');
    if (answer === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, answer.headers).end(answer.body);
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`floor-server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
