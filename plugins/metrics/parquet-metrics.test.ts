import { describe, expect, it } from 'vitest';
import { useFixtureServer } from '../../test/helpers/fixture-server.js';

const serving = useFixtureServer();

const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

describe('/metrics of the parquet reference records', () => {
  it('shows records loaded into the LRU once a parquet dataset is read', async () => {
    const { fixtures, server } = serving();
    const dataset = fixtures.datasets.find((d) => d.format === 'parquet');
    expect(dataset).toBeDefined();
    const zmetadata = (await (await fetch(`${server.url}/datasets/${dataset!.id}/kerchunk/.zmetadata`)).json()) as { metadata: Record<string, unknown> };
    const chunkKey = Object.keys(zmetadata.metadata)
      .filter((key) => key.endsWith('/.zarray') && (zmetadata.metadata[key] as { shape: number[] }).shape.length > 0)
      .map((key) => `${key.slice(0, -'/.zarray'.length)}/${((zmetadata.metadata[key] as { shape: number[] }).shape.map(() => '0')).join('.')}`)[0];
    const response = await fetch(`${server.url}/datasets/${dataset!.id}/kerchunk/${chunkKey}`);
    expect([200, 404]).toContain(response.status);
    await response.arrayBuffer();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(gauge(text, 'strato_parquet_record_loads')).toBeGreaterThanOrEqual(1);
    expect(gauge(text, 'strato_parquet_cache_records')).toBeGreaterThanOrEqual(1);
    expect(gauge(text, 'strato_parquet_cache_bytes')).toBeGreaterThan(0);
    expect(gauge(text, 'strato_catalog_datasets')).toBe(fixtures.datasets.length);
  });
});
