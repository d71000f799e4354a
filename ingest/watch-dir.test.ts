import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../catalog/catalog-file.js';
import { watchDirSettings } from './watch-dir.js';

const catalog = (block: string) => parseCatalog(`${block}\ndatasets: {}\n`, '/srv/strato/catalog.yaml');

describe('watchDirSettings', () => {
  it('resolves watch_dir against the catalog directory; none without the block', () => {
    expect(watchDirSettings(catalog('catalog: {watch_dir: refs}'))).toEqual({ dir: '/srv/strato/refs' });
    expect(watchDirSettings(catalog('catalog: {watch_dir: /data/refs}'))).toEqual({ dir: '/data/refs' });
    expect(watchDirSettings(catalog(''))).toBeUndefined();
    expect(watchDirSettings(catalog('catalog: {}'))).toBeUndefined();
  });

  it('fails closed on unknown keys and unusable values', () => {
    expect(() => watchDirSettings(catalog('catalog: {watch_dri: refs}'))).toThrow(/unknown key\(s\) "watch_dri"/);
    expect(() => watchDirSettings(catalog('catalog: {__proto__: {watch_dir: x}}'))).toThrow(/unknown key/);
    expect(() => watchDirSettings(catalog('catalog: {watch_dir: "https://example.org/refs"}'))).toThrow(/watch_dir/);
    expect(() => watchDirSettings(catalog('catalog: {watch_dir: [a]}'))).toThrow(/watch_dir/);
    expect(() => watchDirSettings(catalog('catalog: refs'))).toThrow(/watch_dir/);
  });
});
