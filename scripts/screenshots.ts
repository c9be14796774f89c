/**
 * Regenerates docs/screenshots/*.png, the demo app's main states, by driving headless Chromium against
 * a real `upfront dev` (the compiled CLI, disk storage in a temporary data dir, the repository's
 * upfront.config.json): signed in and empty, several files uploading, one paused, a refused file's
 * error, the gallery, and a file's versions. `npm run screenshots` builds first, then runs this.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { DROP_INPUT, launchBrowser, signIn } from '../test/support/browser.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const out = join(repo, 'docs/screenshots');

/** A picture to upload: soft gradients and shapes, rendered by sharp from SVG. */
async function picture(width: number, height: number, [from, to, shape]: [string, string, string], format: 'png' | 'jpeg'): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="${width * 0.7}" cy="${height * 0.35}" r="${Math.min(width, height) * 0.18}" fill="${shape}" opacity="0.85"/>
    <path d="M0 ${height * 0.8} Q ${width * 0.3} ${height * 0.55} ${width * 0.6} ${height * 0.78} T ${width} ${height * 0.7} V ${height} H 0 Z" fill="#0003"/>
  </svg>`;
  const image = sharp(Buffer.from(svg));
  return format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 92 }).toBuffer();
}

/** `upfront dev` on a free port; resolves with its URL once it says it is ready. */
async function startDevServer(dataDir: string) {
  const child = spawn(process.execPath, [join(repo, 'packages/cli/dist/bin.js'), 'dev', '--port', '0'], {
    cwd: repo,
    env: { ...process.env, UPFRONT_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready: (http\S+)/.exec(output);
      if (ready) resolve(ready[1]!);
    });
    child.once('exit', (code) => reject(new Error(`upfront dev exited (${code}) before it was ready:\n${output}`)));
  });
  if (/web page not included/.test(output)) throw new Error('upfront dev has no web page: run "npm run build" first');
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Slows the page's uploads, so the screenshots catch them in flight. */
async function limitUploadSpeed(page: Page, bytesPerSecond: number): Promise<void> {
  const devtools = await page.context().newCDPSession(page);
  await devtools.send('Network.enable');
  await devtools.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
}

const row = (name: string) => `.queue-list li[data-name="${name}"]`;

async function main(): Promise<void> {
  await mkdir(out, { recursive: true });
  const dataDir = await mkdtemp(join(tmpdir(), 'upfront-screenshots-'));
  const server = await startDevServer(dataDir);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    page.setDefaultTimeout(60_000);
    const shot = async (name: string) => {
      await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
      console.log(`docs/screenshots/${name}.png`);
    };
    await page.goto(server.url);
    await shot('sign-in');
    await signIn(page, 'alice');
    await page.waitForSelector('.gallery[data-state=empty]');
    await shot('empty');

    const files = [
      { name: 'harbour.jpg', mimeType: 'image/jpeg', buffer: await picture(2400, 1600, ['#1d3557', '#a8dadc', '#f1faee'], 'jpeg') },
      { name: 'meadow.png', mimeType: 'image/png', buffer: await picture(1600, 1000, ['#588157', '#dad7cd', '#ffb703'], 'png') },
      { name: 'dusk.jpg', mimeType: 'image/jpeg', buffer: await picture(2000, 1300, ['#3d0066', '#ff7b00', '#ffd000'], 'jpeg') },
      { name: 'dunes.png', mimeType: 'image/png', buffer: await picture(1400, 900, ['#bc6c25', '#fefae0', '#dda15e'], 'png') },
      { name: 'lagoon.jpg', mimeType: 'image/jpeg', buffer: await picture(1800, 1200, ['#006d77', '#83c5be', '#edf6f9'], 'jpeg') },
      { name: 'invoice-2026-11.pdf', mimeType: 'application/pdf', buffer: Buffer.from(`%PDF-1.4\n${'% an invoice\n'.repeat(20_000)}%%EOF\n`, 'latin1') },
      { name: 'holiday.png', mimeType: 'image/png', buffer: Buffer.from('Not a picture: a text file someone named .png\n'.repeat(40)) },
    ];
    await limitUploadSpeed(page, 400 * 1024);
    await page.setInputFiles(DROP_INPUT, files);
    await page.waitForFunction(() => {
      const moving = [...document.querySelectorAll('.queue-list progress')].map((bar) => Number(bar.getAttribute('value'))).filter((value) => value > 5 && value < 90);
      return moving.length >= 2;
    });
    await shot('uploading');

    const paused = await page.$eval('.queue-list li[data-state=uploading]', (item) => (item as HTMLElement).dataset.name!);
    await page.getByRole('button', { name: `Pause ${paused}` }).click();
    await page.waitForSelector(`${row(paused)}[data-paused=true]`);
    await shot('paused');
    await page.getByRole('button', { name: `Resume ${paused}` }).click();

    await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('.queue-list li')].every((item) => ['done', 'error'].includes(item.dataset.state!)));
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.gallery-grid img')].every((image) => image.complete && image.naturalWidth > 0));
    await page.locator(row('holiday.png')).scrollIntoViewIfNeeded();
    await shot('error');
    await page.getByRole('button', { name: 'Clear finished' }).click();
    await shot('gallery');

    await page.getByRole('button', { name: 'Versions of meadow.png' }).click();
    const card = page.locator('.gallery-grid li[data-filename="meadow.png"]');
    await card.locator('input[type=file]').setInputFiles({ name: 'meadow-evening.png', mimeType: 'image/png', buffer: await picture(1600, 1000, ['#3a5a40', '#f4a261', '#e76f51'], 'png') });
    await page.waitForFunction(() => document.querySelectorAll('.versions li[data-version-id]').length === 2);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.gallery-grid img')].every((image) => image.complete && image.naturalWidth > 0));
    await shot('versions');
  } finally {
    await browser.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
