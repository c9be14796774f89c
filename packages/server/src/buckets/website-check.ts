/** Doctor's check of the website bucket: its URL (the store's website endpoint) serves the index page as HTML. */
import { browserGet } from './browser-get.ts';
import { SETUP, type Found } from './doctor.ts';
import type { SiteConfig } from './website.ts';

export async function checkWebsite(site: SiteConfig, found: Found): Promise<void> {
  let answer;
  try {
    answer = await browserGet(site.url);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    found('website', 'fail', `${site.url} does not answer (${reason})`, "check S3_SITE_URL: the site bucket's website endpoint");
    return;
  }
  const type = answer.headers['content-type'] ?? '';
  if (answer.status !== 200 || !/^text\/html\b/i.test(type)) {
    const text = answer.body.toString('utf8', 0, 300);
    // The store says the bucket is no website (or none at all): setup's to fix; anything else, the content.
    const unset = /NoSuchWebsiteConfiguration|NoSuchBucket/.test(text);
    found('website', 'fail', `${site.url} answered ${answer.status} ${type || '(no type)'}${unset ? `: ${/NoSuch\w+/.exec(text)![0]}` : ''}, not its ${site.indexDocument}`, unset ? SETUP : 'deploy the site: run `upfront site deploy`');
    return;
  }
  found('website', 'ok', `${site.url} serves ${site.indexDocument} as text/html`);
}
