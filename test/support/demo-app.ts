/**
 * The demo app's test hooks (apps/web), in one place for the browser tests: each upload is a row of
 * the queue (`[data-name][data-state]`, `data-paused`, `data-upload-id`, `data-error-code`), each
 * stored file a card of the gallery (`[data-file-id][data-filename][data-visibility]`).
 */
import type { Page } from 'playwright-core';
import { DROP_INPUT } from './browser.ts';

export { DROP_INPUT };

export const queueRow = (name: string) => `.queue-list li[data-name="${name}"]`;
export const galleryCard = (filename: string) => `.gallery-grid li[data-filename="${filename}"]`;

/** Waits until the upload of `name` is done or failed, and answers which (`done`, or the error code). */
export async function uploadOutcome(page: Page, name: string): Promise<string> {
  const row = queueRow(name);
  await page.waitForFunction((css) => ['done', 'error'].includes(document.querySelector<HTMLElement>(css)?.dataset.state ?? ''), row);
  return page.$eval(row, (element) => {
    const { state, errorCode } = (element as HTMLElement).dataset;
    return state === 'done' ? 'done' : (errorCode ?? 'error');
  });
}

/** The words the row of `name` shows (its error sentence among them). */
export const rowText = (page: Page, name: string) => page.$eval(queueRow(name), (element) => (element as HTMLElement).innerText);

/** Keeps every value the progress bar of `name` takes, from before it exists (install before adding the file). */
export async function recordProgress(page: Page, name: string): Promise<void> {
  await page.evaluate((label) => {
    const seen: number[] = [];
    Object.assign(window, { [`progress:${label}`]: seen });
    const css = `progress[aria-label="${label}"]`;
    let last: string | null = null;
    // Inline: a named function here would be renamed by tsx (__name), which the page does not have.
    new MutationObserver(() => {
      const value = document.querySelector(css)?.getAttribute('value') ?? null;
      if (value !== null && value !== last) seen.push(Number(value));
      last = value;
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] });
  }, `Progress of ${name}`);
}

export const progressValues = (page: Page, name: string) =>
  page.evaluate((label) => (window as unknown as Record<string, number[]>)[`progress:${label}`]!, `Progress of ${name}`);

/** Waits for an <img> to finish (load or fail) and answers its decoded width (0 when it failed). */
export async function loadedWidth(page: Page, selector: string): Promise<number> {
  await page.waitForFunction((css) => {
    const image = document.querySelector<HTMLImageElement>(css);
    return image !== null && image.complete;
  }, selector);
  return page.$eval(selector, (image) => (image as HTMLImageElement).naturalWidth);
}

