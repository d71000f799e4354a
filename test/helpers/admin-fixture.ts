import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The token the admin tests configure. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export const zarray = (shape: number[], chunks: number[]) =>
  JSON.stringify({ zarr_format: 2, shape, chunks, dtype: '<u1', compressor: null, filters: null, fill_value: 0, order: 'C' });

export const BASE_CATALOG = `# Admin test catalog: entries below are added by the admin API.
datasets:
  existing: {refs: refs/good.json, title: Existing} # there before any registration
sources:
  allow: [data/] # nothing else is read
`;

/**
 * A catalog directory for admin tests: `data/bytes.bin` (0..255) inside the allowed root,
 * `outside/secret.bin` outside it, `data/link.bin` a symlink out, and reference tables
 * `refs/good.json` plus tables whose references escape in every way.
 */
export async function makeAdminCatalog(): Promise<{ dir: string; catalog: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'strato-admin-'));
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'refs'));
  await mkdir(join(dir, 'outside'));
  await writeFile(
    join(dir, 'data', 'bytes.bin'),
    Uint8Array.from({ length: 256 }, (_, i) => i),
  );
  await writeFile(join(dir, 'outside', 'secret.bin'), 'secret');
  await symlink(join(dir, 'outside', 'secret.bin'), join(dir, 'data', 'link.bin'));
  const good = {
    '.zattrs': JSON.stringify({ title: 'bytes' }),
    'v/.zarray': zarray([20], [10]),
    'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'] }),
    'v/0': ['../data/bytes.bin', 0, 10],
    'v/1': ['../data/bytes.bin', 10, 10],
  };
  await writeFile(join(dir, 'refs', 'good.json'), JSON.stringify(good));
  const escape = (url: string) => JSON.stringify({ 'v/.zarray': zarray([8], [4]), 'v/0': ['../data/bytes.bin', 0, 4], 'v/1': [url, 0, 4] });
  await writeFile(join(dir, 'refs', 'dotdot.json'), escape('../outside/secret.bin'));
  await writeFile(join(dir, 'refs', 'sneaky-dotdot.json'), escape('../data/../outside/secret.bin'));
  await writeFile(join(dir, 'refs', 'absolute.json'), escape(join(dir, 'outside', 'secret.bin')));
  await writeFile(join(dir, 'refs', 'symlink.json'), escape('../data/link.bin'));
  await writeFile(join(dir, 'refs', 'file-url.json'), escape('file:///etc/passwd'));
  await writeFile(join(dir, 'refs', 'host.json'), escape('https://elsewhere.example/x.nc'));
  await writeFile(join(dir, 'refs', 'broken.json'), '{"v/.zarray": ');
  await writeFile(join(dir, 'refs', 'bad-metadata.json'), JSON.stringify({ 'v/.zarray': JSON.stringify({ zarr_format: 2, shape: [4] }) }));
  await writeFile(join(dir, 'outside', 'table.json'), JSON.stringify(good));
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(catalog, BASE_CATALOG);
  return { dir, catalog };
}

/** fetch with the admin token (or another `authorization` value). */
export function adminFetch(url: string, init: { method: string; body?: unknown; token?: string | null; headers?: Record<string, string> }): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? ADMIN_TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  return fetch(url, { method: init.method, headers, ...(body !== undefined ? { body } : {}) });
}
