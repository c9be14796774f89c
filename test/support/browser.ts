/**
 * Headless Debian Chromium for browser tests. `npx playwright install` cannot work here, so the
 * system browser is driven through playwright-core. A browser that cannot start fails the suite.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}. Install Debian's "chromium" package; the browser tests need it and are never skipped.`);
  }
  try {
    return await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Headless Chromium (${CHROMIUM_PATH}) did not start: ${reason}`, { cause: error });
  }
}

/**
 * Records what the page says went wrong (console errors, uncaught exceptions, failed requests and
 * HTTP errors), so a failing assertion can print the browser's side of the story.
 */
export function recordPageTrouble(page: Page): string[] {
  const log: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') log.push(`console.${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => log.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => log.push(`request failed: ${request.method()} ${request.url()} — ${request.failure()?.errorText ?? 'unknown'}`));
  page.on('response', (response) => {
    if (response.status() >= 400) log.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return log;
}

/** Signs in on the demo app as `user` (dev sign-in) and waits until it can take files (its routes loaded). */
export async function signIn(page: Page, user: string): Promise<void> {
  await page.fill('#signin-name', user);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForFunction((name) => document.querySelector('[data-testid="session-user"]')?.textContent === name, user);
  await page.waitForSelector(DROP_INPUT + ':enabled', { state: 'attached' });
}

/** The demo app's file input, behind its dropzone's button (the one input that takes many files). */
export const DROP_INPUT = 'input[type=file][multiple]';

/**
 * Slows this page's uploads (DevTools network emulation), so a few hundred KB take a second or two: an
 * upload is still in flight when the test acts, and the browser reports real intermediate progress even
 * on localhost. The limit lasts as long as the DevTools session; the returned function lifts it.
 */
export async function limitUploadSpeed(page: Page, bytesPerSecond: number): Promise<() => Promise<void>> {
  const devtools = await page.context().newCDPSession(page);
  await devtools.send('Network.enable');
  await devtools.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
  return () => devtools.detach();
}

/**
 * Drops files on `zone` as a user dragging them from the desktop would: real File objects (handed to a
 * scratch input first) in a DataTransfer, with dragenter, dragover and drop events. Locators pierce
 * open shadow roots, so a zone inside a custom element works too.
 */
export async function dropFiles(zone: Locator, files: { name: string; mimeType: string; buffer: Buffer }[]): Promise<void> {
  const page = zone.page();
  await page.evaluate(() => {
    const scratch = Object.assign(document.createElement('input'), { type: 'file', multiple: true, hidden: true, id: 'test-drag-source' });
    document.body.append(scratch);
  });
  await page.setInputFiles('#test-drag-source', files);
  const dataTransfer = await page.evaluateHandle(() => {
    const scratch = document.getElementById('test-drag-source') as HTMLInputElement;
    const dragged = new DataTransfer();
    for (const file of scratch.files!) dragged.items.add(file);
    scratch.remove();
    return dragged;
  });
  for (const type of ['dragenter', 'dragover', 'drop']) await zone.dispatchEvent(type, { dataTransfer });
  await dataTransfer.dispose();
}
