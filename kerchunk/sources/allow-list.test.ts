import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceAllowList, SourcesConfigError } from './allow-list.js';
import { SourceForbiddenError } from './source-error.js';

let dir: string;
let refs: string;
let allow: SourceAllowList;

beforeAll(async () => {
  // realpath: tmpdir may itself be behind a symlink
  dir = await mkdtemp(join(tmpdir(), 'strato-allow-'));
  refs = join(dir, 'refs');
  for (const sub of ['data/sub', 'data2', 'outside', 'refs']) await mkdir(join(dir, sub), { recursive: true });
  await writeFile(join(dir, 'data', 'a.bin'), 'a');
  await writeFile(join(dir, 'outside', 'secret.bin'), 'secret');
  await symlink(join(dir, 'outside', 'secret.bin'), join(dir, 'data', 'link.bin'));
  await symlink(join(dir, 'outside'), join(dir, 'data', 'dirlink'));
  await symlink(join(dir, 'data', 'a.bin'), join(dir, 'data', 'inner-link.bin'));
  await symlink(join(dir, 'nowhere'), join(dir, 'data', 'dangling'));
  await symlink(join(dir, 'data'), join(dir, 'data-alias'));
  allow = await SourceAllowList.create(['data/', 'https://allowed-host/archive/', 'http://allowed-host/', 's3://bucket-1/prefix/'], dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function refused(url: string, relativeTo = refs, list = allow): Promise<SourceForbiddenError> {
  const error = await list.resolve(url, relativeTo).then(
    (resolved) => new Error(`allowed: ${JSON.stringify(resolved)}`),
    (e: unknown) => e,
  );
  expect(error, url).toBeInstanceOf(SourceForbiddenError);
  const forbidden = error as SourceForbiddenError;
  expect(forbidden.url).toBe(url);
  expect(forbidden.message).toContain(JSON.stringify(url));
  expect(forbidden.message).toContain('allowed sources:');
  return forbidden;
}

describe('SourceAllowList: allowed references', () => {
  it('resolves local references against the reference directory to real paths', async () => {
    const data = join(dir, 'data');
    expect(await allow.resolve('../data/a.bin', refs)).toEqual({ kind: 'file', path: join(data, 'a.bin') });
    expect(await allow.resolve('../data/sub/../a.bin', refs)).toEqual({ kind: 'file', path: join(data, 'a.bin') });
    expect(await allow.resolve(join(data, 'a.bin'), '/somewhere/else')).toEqual({ kind: 'file', path: join(data, 'a.bin') });
    expect(await allow.resolve(pathToFileURL(join(data, 'a.bin')).href, refs)).toEqual({ kind: 'file', path: join(data, 'a.bin') });
    expect(await allow.resolve('../data/inner-link.bin', refs)).toEqual({ kind: 'file', path: join(data, 'a.bin') });
    expect(await allow.resolve('../data-alias/a.bin', refs)).toEqual({ kind: 'file', path: join(data, 'a.bin') });
  });

  it('allows files that do not exist yet under a root (reads then give not-found)', async () => {
    expect(await allow.resolve('../data/new/x.nc', refs)).toEqual({ kind: 'file', path: join(dir, 'data', 'new', 'x.nc') });
  });

  it('treats unknown schemes without // as file names', async () => {
    expect(await allow.resolve('c:x.nc', join(dir, 'data'))).toEqual({ kind: 'file', path: join(dir, 'data', 'c:x.nc') });
  });

  it('normalises http(s) URLs and matches origin and prefix at a segment boundary', async () => {
    expect(await allow.resolve('https://allowed-host/archive/x.nc', refs)).toEqual({ kind: 'http', url: 'https://allowed-host/archive/x.nc' });
    expect(await allow.resolve('https://allowed-host/archive', refs)).toEqual({ kind: 'http', url: 'https://allowed-host/archive' });
    expect(await allow.resolve('HTTP://Allowed-Host:80/any/x.nc?v=1#frag', refs)).toEqual({ kind: 'http', url: 'http://allowed-host/any/x.nc?v=1' });
    expect(await allow.resolve('https://allowed-host/archive/a/../b.nc', refs)).toEqual({ kind: 'http', url: 'https://allowed-host/archive/b.nc' });
  });

  it('resolves s3 references', async () => {
    expect(await allow.resolve('s3://bucket-1/prefix/dir/x.nc', refs)).toEqual({ kind: 's3', bucket: 'bucket-1', key: 'prefix/dir/x.nc' });
  });

  it('resolves relative references against remote reference directories', async () => {
    expect(await allow.resolve('x.nc', 'https://allowed-host/archive/refs')).toEqual({ kind: 'http', url: 'https://allowed-host/archive/refs/x.nc' });
    expect(await allow.resolve('../x.nc', 's3://bucket-1/prefix/refs')).toEqual({ kind: 's3', bucket: 'bucket-1', key: 'prefix/x.nc' });
    await refused('../../x.nc', 'https://allowed-host/archive/refs/');
    await refused('../../x.nc', 's3://bucket-1/prefix/refs');
    await refused('../../../x.nc', 's3://bucket-1/prefix/refs');
  });

  it('tells whether a redirect target is allowed', () => {
    expect(allow.allowsHttpUrl('https://allowed-host/archive/y.nc')).toBe(true);
    expect(allow.allowsHttpUrl('https://allowed-host/private/y.nc')).toBe(false);
    expect(allow.allowsHttpUrl('http://evil.example/y.nc')).toBe(false);
    expect(allow.allowsHttpUrl('http://u@allowed-host/y.nc')).toBe(false);
    expect(allow.allowsHttpUrl('not a url')).toBe(false);
  });
});

describe('SourceAllowList: escapes are refused, naming the reference', () => {
  it('refuses ../ out of every root, and sibling directories sharing a prefix', async () => {
    const error = await refused('../outside/secret.bin');
    expect(error.message).toContain(join(dir, 'outside', 'secret.bin'));
    expect(error.message).toContain(`${join(dir, 'data')}/`);
    await refused('../data/../outside/secret.bin');
    await refused('../data2/x.nc');
    await refused('../../../../../../../../etc/passwd');
  });

  it('refuses absolute paths outside the roots', async () => {
    await refused(join(dir, 'outside', 'secret.bin'));
    await refused('/etc/passwd');
  });

  it('refuses symlinks inside a root that point outside, for files and directories', async () => {
    const error = await refused('../data/link.bin');
    expect(error.message).toContain(join(dir, 'outside', 'secret.bin'));
    await refused('../data/dirlink/secret.bin');
    await refused('../data/dirlink/not-yet.nc');
    await refused('../data/dangling/x.nc');
    await refused('../data/dangling');
  });

  it('refuses file:// URLs elsewhere and malformed ones', async () => {
    await refused('file:///etc/passwd');
    await refused(`file://otherhost${join(dir, 'data', 'a.bin')}`);
    await refused('file:/etc/passwd');
    await refused(`file:${join(dir, 'data', 'a.bin')}`);
  });

  it('refuses other hosts, look-alike hosts, other ports and other schemes', async () => {
    expect((await refused('http://other-host/x.nc')).message).toMatch(/origin http:\/\/other-host is not allowed/);
    await refused('http://allowed-host.evil.com/x.nc');
    await refused('http://evil.com/allowed-host/x.nc');
    await refused('http://allowed-host:9999/x.nc');
    await refused('https://allowed-host/x.nc');
    await refused('https://allowed-host/archive2/x.nc');
    await refused('https://allowed-host/archive/../private/x.nc');
    await refused('https://allowed-host/archive\\..\\private\\x.nc');
    await refused('ftp://allowed-host/x.nc');
    await refused('gs://bucket-1/prefix/x.nc');
    await refused('http:allowed-host/x.nc');
  });

  it('refuses credentials in URLs', async () => {
    await refused('http://user@allowed-host/x.nc');
    await refused('http://user:secret@allowed-host/x.nc');
    await refused('http://@allowed-host/x.nc');
    await refused('http://allowed-host@evil.com/x.nc');
  });

  it('refuses percent-encoded dot segments and slashes', async () => {
    expect((await refused('https://allowed-host/archive/%2e%2e/private/x.nc')).message).toMatch(/percent-encoded dot segment/);
    await refused('https://allowed-host/archive/%2E./x.nc');
    await refused('https://allowed-host/archive/.%2e/x.nc');
    await refused('https://allowed-host/archive/%252e%252e/x.nc');
    await refused('https://allowed-host/archive/..%2f..%2fprivate/x.nc');
    await refused('../data/%2e%2e/%2e%2e/outside/secret.bin');
    await refused('file:///%2e%2e/etc/passwd');
    await refused('s3://bucket-1/prefix/%2e%2e/secret');
    await refused('https://allowed-host/archive/..;/private/x.nc');
    await refused('https://allowed-host/archive/%2e%2e;x/private/x.nc');
  });

  it('refuses NUL bytes and control characters', async () => {
    expect((await refused('../data/a.bin\u0000.png')).message).toMatch(/NUL byte/);
    await refused('http://allowed-host/x\u0000.nc');
    await refused('https://allowed-host/archive/%00x.nc');
    await refused('../data/a\nb.bin');
    await refused('');
  });

  it('refuses s3 references outside the allowed buckets and prefixes', async () => {
    await refused('s3://bucket-1/other/x.nc');
    await refused('s3://bucket-1/prefixed/x.nc');
    await refused('s3://bucket-2/prefix/x.nc');
    await refused('s3://bucket-1/prefix/../secret');
    await refused('s3://bucket-1/prefix/./x.nc');
    await refused('s3://user@bucket-1/prefix/x.nc');
    await refused('s3://bucket-1');
  });

  it('refuses everything with an empty allow list', async () => {
    const none = await SourceAllowList.create([], dir);
    const error = await refused('../data/a.bin', refs, none);
    expect(error.message).toMatch(/allowed sources: none/);
  });
});

describe('SourceAllowList: roots', () => {
  it('accepts file:// roots and roots given through symlinks', async () => {
    const list = await SourceAllowList.create([pathToFileURL(join(dir, 'data-alias')).href], '/');
    expect(await list.resolve(join(dir, 'data', 'a.bin'), '/')).toEqual({ kind: 'file', path: join(dir, 'data', 'a.bin') });
    await refused(join(dir, 'outside', 'secret.bin'), '/', list);
  });

  it('rejects malformed entries', async () => {
    for (const entry of ['ftp://host/x/', 'http://user:pw@host/x/', 'https://host/x/?q=1', 's3://Bad_Bucket/', 'file://otherhost/x', '']) {
      await expect(SourceAllowList.create([entry], dir), entry).rejects.toBeInstanceOf(SourcesConfigError);
    }
  });

  it('sees a symlink swapped in for a file at once when the realpath cache is off', async () => {
    const list = await SourceAllowList.create(['data/'], dir, { realpathCacheMs: 0 });
    await writeFile(join(dir, 'data', 'swap.bin'), 'ok');
    expect(await list.resolve('../data/swap.bin', refs)).toEqual({ kind: 'file', path: join(dir, 'data', 'swap.bin') });
    await rm(join(dir, 'data', 'swap.bin'));
    await symlink(join(dir, 'outside', 'secret.bin'), join(dir, 'data', 'swap.bin'));
    await refused('../data/swap.bin', refs, list);
  });
});
