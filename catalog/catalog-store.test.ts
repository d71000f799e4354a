import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CatalogError, loadCatalog } from './catalog-file.js';
import { addDataset, applyDatasets, DatasetExistsError, FileLockError, removeDataset, updateCatalog } from './catalog-store.js';
import { acquireFileLock } from './file-lock.js';

const CATALOG = `# Catalog of the test suite. Paths are relative to this file.
datasets:
  # the first dataset
  alpha:
    refs: refs/alpha.json # inline comment on refs
    title: Alpha
    description: >-
      A folded description that is long enough to span two lines when it is written out by a
      person who folds text at about ninety-five columns.
  beta: {refs: refs/beta.json, license: CC0-1.0}
sources:
  allow: [data/] # only data/
`;

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-store-'));
  file = join(dir, 'catalog.yaml');
  await writeFile(file, CATALOG);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ids = async () => (await loadCatalog(file)).datasets.map((d) => d.id);
/** A pid that certainly is not running: a child that has exited (and been reaped). */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

describe('addDataset', () => {
  it('appends an entry and keeps comments, order and styles of the rest', async () => {
    const result = await addDataset(file, { id: 'gamma', refs: 'refs/gamma.json', title: 'Gamma: third', processing: { chunks: { time: 30 } } });
    expect(result).toMatchObject({ changed: true, created: true });
    const text = await readFile(file, 'utf8');
    expect(text.startsWith(CATALOG.split('sources:')[0] as string)).toBe(true); // everything before the new entry, byte for byte
    expect(text).toContain('allow: [data/] # only data/');
    expect(await ids()).toEqual(['alpha', 'beta', 'gamma']);
    const gamma = (await loadCatalog(file)).datasets.find((d) => d.id === 'gamma');
    expect(gamma).toMatchObject({ refs: 'refs/gamma.json', title: 'Gamma: third', processing: { chunks: { time: 30 } } });
    expect(result.catalog.datasets.map((d) => d.id)).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('refuses an existing id without replace and leaves the file byte for byte as it was', async () => {
    await expect(addDataset(file, { id: 'alpha', refs: 'refs/other.json' })).rejects.toBeInstanceOf(DatasetExistsError);
    expect(await readFile(file, 'utf8')).toBe(CATALOG);
  });

  it('replaces an entry in place: unchanged fields keep their comments, missing fields go', async () => {
    const result = await addDataset(file, { id: 'alpha', refs: 'refs/alpha.json', title: 'Alpha 2' }, { replace: true });
    expect(result.created).toBe(false);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('refs: refs/alpha.json # inline comment on refs');
    expect(text).toContain('# the first dataset');
    expect(text).not.toContain('folded description');
    const alpha = (await loadCatalog(file)).datasets.find((d) => d.id === 'alpha');
    expect(alpha?.title).toBe('Alpha 2');
    expect(alpha?.description).toBeUndefined();
    expect(await ids()).toEqual(['alpha', 'beta']);
  });

  it('keeps the access rule of a replaced entry: re-registering never publishes a protected dataset', async () => {
    await writeFile(
      file,
      'auth:\n  issuers:\n    - {issuer: "https://idp.example.org", audience: strato}\ndatasets:\n  secret:\n    refs: refs/a.json\n    access: {roles: [members]}\n',
    );
    await addDataset(file, { id: 'secret', refs: 'refs/b.json', title: 'New' }, { replace: true });
    const secret = (await loadCatalog(file)).datasets.find((d) => d.id === 'secret');
    expect(secret?.refs).toBe('refs/b.json');
    expect(secret?.access?.roles).toEqual(['members']);
  });

  it('refuses to replace an entry with an unknown key, and leaves the file as it was', async () => {
    const text = 'datasets:\n  secret:\n    refs: refs/a.json\n    acess: {roles: [members]}\n';
    await writeFile(file, text);
    await expect(addDataset(file, { id: 'secret', refs: 'refs/b.json' }, { replace: true })).rejects.toThrow(/keys strato does not know.*"acess"/);
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('writes nothing when a replacement says the same', async () => {
    const before = await stat(file);
    const result = await addDataset(file, { id: 'beta', refs: 'refs/beta.json', license: 'CC0-1.0' }, { replace: true });
    expect(result.changed).toBe(false);
    expect(await readFile(file, 'utf8')).toBe(CATALOG);
    expect((await stat(file)).ino).toBe(before.ino);
  });

  it('creates "datasets" in a catalog without it, and a missing catalog with createIfMissing', async () => {
    await writeFile(file, 'sources:\n  allow: [data/]\n');
    await addDataset(file, { id: 'a', refs: 'a.json' });
    expect(await ids()).toEqual(['a']);
    await writeFile(file, 'datasets:\nsources: {allow: [data/]}\n');
    await addDataset(file, { id: 'b', refs: 'b.json' });
    expect(await ids()).toEqual(['b']);
    const fresh = join(dir, 'fresh.yaml');
    await expect(addDataset(fresh, { id: 'c', refs: 'c.json' })).rejects.toBeInstanceOf(CatalogError);
    await addDataset(fresh, { id: 'c', refs: 'c.json' }, { createIfMissing: true });
    expect((await loadCatalog(fresh)).datasets.map((d) => d.id)).toEqual(['c']);
  });

  it('refuses bad ids before touching anything', async () => {
    await expect(addDataset(file, { id: '../x', refs: 'x.json' })).rejects.toThrow(/must match/);
    expect(await readFile(file, 'utf8')).toBe(CATALOG);
  });

  it('keeps the file mode', async () => {
    await chmod(file, 0o640);
    await addDataset(file, { id: 'g', refs: 'g.json' });
    expect((await stat(file)).mode & 0o777).toBe(0o640);
  });
});

describe('removeDataset', () => {
  it('removes an entry and reports whether there was one', async () => {
    expect(await removeDataset(file, 'beta')).toBe(true);
    expect(await ids()).toEqual(['alpha']);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# the first dataset');
    expect(await removeDataset(file, 'beta')).toBe(false);
  });

  it('writes nothing for an id that is not there', async () => {
    const before = await stat(file);
    expect(await removeDataset(file, 'nope')).toBe(false);
    expect((await stat(file)).ino).toBe(before.ino);
    expect(await readFile(file, 'utf8')).toBe(CATALOG);
  });
});

describe('updateCatalog', () => {
  it('refuses to rewrite a catalog that is not valid YAML', async () => {
    const broken = 'datasets:\n  a: {refs: [\n';
    await writeFile(file, broken);
    await expect(addDataset(file, { id: 'x', refs: 'x.json' })).rejects.toBeInstanceOf(CatalogError);
    expect(await readFile(file, 'utf8')).toBe(broken);
  });

  it('refuses a mutation whose result is not a usable catalog', async () => {
    await expect(updateCatalog(file, (document) => void document.set('sources', 42))).rejects.toBeInstanceOf(CatalogError);
    expect(await readFile(file, 'utf8')).toBe(CATALOG);
  });

  it('leaves the file as it was when the mutation throws', async () => {
    await expect(
      updateCatalog(file, (document) => {
        document.setIn(['datasets', 'z'], { refs: 'z.json' });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await readFile(file, 'utf8')).toBe(CATALOG);
    expect((await readdir(dir)).sort()).toEqual(['catalog.yaml']);
  });

  it('re-reads the file inside the lock: edits made since the last read are kept', async () => {
    await addDataset(file, { id: 'one', refs: 'one.json' });
    await writeFile(file, `${await readFile(file, 'utf8')}# appended by hand\n`);
    await writeFile(file, (await readFile(file, 'utf8')).replace('datasets:\n', 'datasets:\n  by-hand: {refs: hand.json}\n'));
    await addDataset(file, { id: 'two', refs: 'two.json' });
    expect(await ids()).toEqual(['by-hand', 'alpha', 'beta', 'one', 'two']);
    expect(await readFile(file, 'utf8')).toContain('# appended by hand');
  });

  it('loses no dataset when many writers add at once', async () => {
    const count = 40;
    await Promise.all(Array.from({ length: count }, (_, i) => addDataset(file, { id: `ds-${i}`, refs: `refs/${i}.json` })));
    const listed = await ids();
    expect(listed).toHaveLength(count + 2);
    for (let i = 0; i < count; i++) expect(listed).toContain(`ds-${i}`);
    expect((await readdir(dir)).sort()).toEqual(['catalog.yaml']); // no lock, no temporaries
  });

  it('removes temporaries left by a writer killed before its rename', async () => {
    await writeFile(join(dir, '.catalog.yaml.99999.abcdef.tmp'), 'half a catal');
    await writeFile(join(dir, '.other.yaml.1.ab.tmp'), 'not ours');
    await addDataset(file, { id: 'after-crash', refs: 'x.json' });
    expect((await readdir(dir)).sort()).toEqual(['.other.yaml.1.ab.tmp', 'catalog.yaml']);
  });
});

describe('the catalog lock', () => {
  const lock = () => `${file}.lock`;
  const record = (pid: number, time = Date.now()) => JSON.stringify({ pid, host: hostname(), time, token: 'someone-else' });

  it('is exclusive between concurrent holders (no in-process queue involved)', async () => {
    const counter = join(dir, 'counter');
    await writeFile(counter, '0');
    const holders = 12;
    await Promise.all(
      Array.from({ length: holders }, async () => {
        const held = await acquireFileLock(lock(), { waitMs: 20_000 });
        try {
          const value = Number(await readFile(counter, 'utf8'));
          await new Promise((resolve) => setTimeout(resolve, 5));
          await writeFile(counter, String(value + 1));
        } finally {
          await held.release();
        }
      }),
    );
    expect(await readFile(counter, 'utf8')).toBe(String(holders));
  });

  it('takes over a lock whose owner is gone', async () => {
    await writeFile(lock(), record(deadPid()));
    const started = Date.now();
    await addDataset(file, { id: 'after-dead-owner', refs: 'x.json' }, { waitMs: 2000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await ids()).toContain('after-dead-owner');
    expect((await readdir(dir)).sort()).toEqual(['catalog.yaml']);
  });

  it('lets exactly one of many waiters take over a stale lock at a time', async () => {
    await writeFile(lock(), record(deadPid()));
    let inside = 0;
    let most = 0;
    let entered = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const held = await acquireFileLock(lock(), { waitMs: 20_000 });
        inside++;
        entered++;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, 3));
        inside--;
        await held.release();
      }),
    );
    expect(entered).toBe(10);
    expect(most).toBe(1);
  });

  it('takes over a lock older than staleMs even when its owner lives', async () => {
    await writeFile(lock(), record(process.pid, Date.now() - 10_000));
    await addDataset(file, { id: 'after-old-lock', refs: 'x.json' }, { waitMs: 2000, staleMs: 5000 });
    expect(await ids()).toContain('after-old-lock');
  });

  it('takes over an empty lock file once its grace has passed', async () => {
    await writeFile(lock(), '');
    const old = new Date(Date.now() - 10_000);
    await utimes(lock(), old, old);
    await addDataset(file, { id: 'after-empty-lock', refs: 'x.json' }, { waitMs: 2000 });
    expect(await ids()).toContain('after-empty-lock');
  });

  it('waits for a live owner, then gives up with a clear error and writes nothing', async () => {
    const theirs = record(process.pid);
    await writeFile(lock(), theirs);
    const started = Date.now();
    const failure = addDataset(file, { id: 'blocked', refs: 'x.json' }, { waitMs: 300 });
    await expect(failure).rejects.toBeInstanceOf(FileLockError);
    await expect(failure).rejects.toThrow(new RegExp(`held by pid ${process.pid} on .*gave up after \\d+ ms`));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(2000);
    expect(await readFile(file, 'utf8')).toBe(CATALOG);
    expect(await readFile(lock(), 'utf8')).toBe(theirs); // still theirs
  });

  it('counts time queued behind other callers of the same process against waitMs', async () => {
    await writeFile(lock(), record(process.pid));
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => addDataset(file, { id: `q${i}`, refs: 'x.json' }, { waitMs: 300 })));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof FileLockError)).toBe(true);
    expect(Date.now() - started).toBeLessThan(900);
    expect(await readFile(file, 'utf8')).toBe(CATALOG);
  });

  it('gets the lock as soon as a live owner releases it', async () => {
    const held = await acquireFileLock(lock());
    setTimeout(() => void held.release(), 150);
    const started = Date.now();
    await addDataset(file, { id: 'after-release', refs: 'x.json' }, { waitMs: 5000 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await ids()).toContain('after-release');
  });

  it('does not remove a lock that is no longer its own', async () => {
    const held = await acquireFileLock(lock());
    await rm(lock());
    await writeFile(lock(), record(process.pid));
    expect(await held.stillHeld()).toBe(false);
    await held.release();
    expect(await readFile(lock(), 'utf8')).toContain('someone-else');
  });
});

describe('applyDatasets', () => {
  it('adds, updates, keeps and removes in one write; the operator fields of an entry stay', async () => {
    await writeFile(
      file,
      `${CATALOG.replace('  beta: {refs: refs/beta.json, license: CC0-1.0}', '  beta: {refs: refs/beta.json, license: CC0-1.0, processing: {chunks: {time: 30}}, access: {roles: [members]}}')}auth: {issuers: [{issuer: "https://id.example", audience: strato}]}\n`,
    );
    const result = await applyDatasets(
      file,
      [
        {
          id: 'alpha',
          refs: 'refs/alpha.json',
          title: 'Alpha',
          description: 'A folded description that is long enough to span two lines when it is written out by a person who folds text at about ninety-five columns.',
        },
        { id: 'beta', refs: 'refs/beta2.json', metadata: { realm: 'ocean' } },
        { id: 'gamma', refs: 'refs/gamma.json', title: 'Gamma' },
      ],
      ['alpha-gone', 'delta'],
    );
    expect([result.added, result.updated, result.unchanged, result.removed, result.refused]).toEqual([['gamma'], ['beta'], ['alpha'], [], []]);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('inline comment on refs'); // alpha untouched
    const beta = (await loadCatalog(file)).datasets.find((d) => d.id === 'beta');
    expect(beta?.fields).toMatchObject({
      refs: 'refs/beta2.json',
      license: 'CC0-1.0',
      processing: { chunks: { time: 30 } },
      access: { roles: ['members'] },
      metadata: { realm: 'ocean' },
    });
    const again = await applyDatasets(file, [{ id: 'gamma', refs: 'refs/gamma.json', title: 'Gamma' }], ['gamma-none']);
    expect([again.changed, again.unchanged]).toEqual([false, ['gamma']]);
    expect(await readFile(file, 'utf8')).toBe(text);
    const removed = await applyDatasets(file, [], ['gamma']);
    expect([removed.changed, removed.removed]).toEqual([true, ['gamma']]);
  });

  it('leaves an entry with keys strato does not know as it is, and says so', async () => {
    await writeFile(file, `${CATALOG}  # appended\n`.replace('  beta: {refs: refs/beta.json, license: CC0-1.0}', '  beta: {refs: refs/beta.json, acess: {roles: [members]}}'));
    const before = await readFile(file, 'utf8');
    const result = await applyDatasets(file, [{ id: 'beta', refs: 'refs/other.json' }], []);
    expect(result.refused).toEqual([{ id: 'beta', reason: expect.stringMatching(/"acess"/) }]);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('refuses an unusable id before taking the lock', async () => {
    await expect(applyDatasets(file, [{ id: '__proto__', refs: 'a.json' }], [])).rejects.toThrow(CatalogError);
  });
});
