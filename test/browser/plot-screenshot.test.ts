import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { repoRoot, startInProcess } from '../helpers/server.js';

/**
 * A browser looks at the quick-look plot of every demo dataset page: the image loads, and the
 * pixels Chromium paints for it (an element screenshot, not the PNG bytes the server sent) hold
 * a map, not a blank or single-colour box; then the plot opened on its own.
 */

/** Debian's Chromium (scripts/install-test-deps.sh installs it). */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Where screenshots go (kept after the run so a person can look at them). */
const shots = process.env.STRATO_SCREENSHOTS ?? join(tmpdir(), 'strato-screenshots');

let server: RunningServer;
let profile: string;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  server = await startInProcess(join(repoRoot, 'demo', 'catalog.yaml'));
  profile = await mkdtemp(join(tmpdir(), 'strato-chromium-'));
  await mkdir(shots, { recursive: true });
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
});
afterAll(async () => {
  await context?.close();
  await server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Distinct colours of a PNG, and the share of its most common colour (1: blank). */
function colours(png: Buffer): { distinct: number; dominantShare: number } {
  const image = PNG.sync.read(png);
  const counts = new Map<number, number>();
  for (let i = 0; i < image.data.length; i += 4) {
    const colour = image.data.readUInt32BE(i);
    counts.set(colour, (counts.get(colour) ?? 0) + 1);
  }
  return { distinct: counts.size, dominantShare: Math.max(...counts.values()) / (image.data.length / 4) };
}

async function waitForPlot(): Promise<void> {
  await page.waitForFunction(
    () => {
      const img = document.querySelector('figure img');
      return img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0;
    },
    undefined,
    { timeout: 30_000 },
  );
}

describe('quick-look plots in a browser', () => {
  for (const id of ['tas-daily', 'pr-daily']) {
    it(`${id}: the page's plot loads and is painted as a map`, async () => {
      await page.goto(`${server.url}/datasets/${id}/`);
      const image = page.locator('figure img').first();
      await image.scrollIntoViewIfNeeded();
      await waitForPlot();
      const size = await image.evaluate((img) => ({ width: (img as HTMLImageElement).naturalWidth, height: (img as HTMLImageElement).naturalHeight }));
      expect(size.width).toBeGreaterThan(300);
      expect(size.height).toBeGreaterThan(100);
      const shot = await image.screenshot();
      await writeFile(join(shots, `plot-${id}.png`), shot);
      const painted = colours(shot);
      // a colour map: many colours, no one colour covering most of the box
      expect(painted.distinct).toBeGreaterThan(50);
      expect(painted.dominantShare).toBeLessThan(0.6);
      const whole = await page.screenshot({ fullPage: true });
      await writeFile(join(shots, `plot-page-${id}.png`), whole);
      expect(colours(whole).distinct).toBeGreaterThan(50);
    });
  }

  it('the plot opened on its own is an image Chromium decodes', async () => {
    await page.goto(`${server.url}/datasets/tas-daily/`);
    const src = await page
      .locator('figure img')
      .first()
      .evaluate((img) => (img as HTMLImageElement).src);
    const response = await page.goto(src);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^image\//);
    const natural = await page.evaluate(() => {
      const img = document.querySelector('img');
      return img ? img.naturalWidth : 0;
    });
    expect(natural).toBeGreaterThan(300);
    const shot = await page.screenshot();
    await writeFile(join(shots, 'plot-alone.png'), shot);
    expect(colours(shot).distinct).toBeGreaterThan(50);
  });
});
