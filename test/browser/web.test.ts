import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { repoRoot, startInProcess } from '../helpers/server.js';

/** Debian's Chromium (scripts/install-test-deps.sh installs it). */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let server: RunningServer;
let profile: string;
let context: BrowserContext;
let page: Page;
/** Where screenshots go (kept after the run so a person can look at them). */
const shots = process.env.STRATO_SCREENSHOTS ?? join(tmpdir(), 'strato-screenshots');
const foreignRequests: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  server = await startInProcess(join(repoRoot, 'demo', 'catalog.yaml'));
  profile = await mkdtemp(join(tmpdir(), 'strato-chromium-'));
  await mkdir(shots, { recursive: true });
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
  page.on('request', (request) => {
    if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) foreignRequests.push(request.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
});
afterAll(async () => {
  await context?.close();
  await server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Distinct colours of a screenshot (a blank page has one or two). */
function distinctColours(png: Buffer): number {
  const image = PNG.sync.read(png);
  const colours = new Set<number>();
  for (let i = 0; i < image.data.length; i += 4) colours.add(image.data.readUInt32BE(i));
  return colours.size;
}

async function screenshot(name: string, fullPage = false): Promise<number> {
  const png = await page.screenshot({ fullPage });
  await writeFile(join(shots, `${name}.png`), png);
  return distinctColours(png);
}

describe('strato in a browser', () => {
  it('shows the landing page and filters the dataset list as one types', async () => {
    await page.goto(`${server.url}/`);
    await expect(page.title()).resolves.toMatch(/strato/);
    const items = page.locator('#datasets > li');
    await expect(items.count()).resolves.toBe(2);
    expect(await screenshot('landing')).toBeGreaterThan(20);
    // keyboard: the search box is reachable with Tab
    let focused = '';
    for (let i = 0; i < 12 && focused !== 'q'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.id ?? '');
    }
    expect(focused).toBe('q');
    await page.keyboard.type('precip');
    await expect(page.locator('#datasets > li:visible').count()).resolves.toBe(1);
    await expect(page.locator('#datasets > li:visible h3').textContent()).resolves.toMatch(/precipitation/i);
    await expect(page.locator('#count').textContent()).resolves.toBe('1 of 2 datasets');
    expect(page.url()).toMatch(/\?q=precip$/);
    expect(await screenshot('landing-filtered')).toBeGreaterThan(20);
  });

  it('opens a dataset page whose quick-look map loads', async () => {
    await page.locator('#datasets > li:visible h3 a').click();
    await page.waitForURL(/\/datasets\/pr-daily\/$/);
    await expect(page.locator('h1').textContent()).resolves.toMatch(/precipitation/i);
    const image = page.locator('figure img');
    await image.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => {
      const img = document.querySelector('figure img');
      return img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0;
    });
    expect(await image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(300);
    await expect(page.locator('.snippet button').count()).resolves.toBeGreaterThan(3);
    await page.goto(`${server.url}/datasets/pr-daily/`);
    expect(await screenshot('dataset', true)).toBeGreaterThan(50);
  });

  it('shows the API documentation with the routes', async () => {
    await page.goto(`${server.url}/docs`);
    await page.locator('.opblock-summary-path').first().waitFor({ timeout: 20_000 });
    const paths = await page.locator('.opblock-summary-path').allTextContents();
    const text = paths.join('\n');
    for (const route of ['/datasets/{id}/plot/{file}', '/datasets/{id}/kerchunk/{key}', '/openapi.json']) expect(text).toContain(route);
    expect(await screenshot('docs')).toBeGreaterThan(20);
  });

  it('made no request to any other host and hit no CSP violation', () => {
    expect(foreignRequests).toEqual([]);
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
  });
});
