/**
 * The demo app signs in with an OpenID Connect provider when its <meta> tags name one: in headless
 * Chromium, the app (served from its own origin, as from a website bucket) sends the browser to the
 * provider's authorization endpoint with a PKCE challenge, comes back with a code, trades it (with
 * the verifier) for tokens, and the API accepts the access token: the user uploads a PNG. The provider
 * is a small real one over HTTP (discovery, authorize, token), signing with test/support/idp.ts's key
 * and checking the S256 challenge, the client id and the redirect URI as providers do. A callback with
 * a state this tab did not start is refused in words.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { buildWeb } from '../../apps/web/build.ts';
import { staticFiles } from '../../packages/cli/src/static-files.ts';
import { launchBrowser, recordPageTrouble } from '../support/browser.ts';
import { DROP_INPUT, galleryCard, rowText, uploadOutcome } from '../support/demo-app.ts';
import { startIdp, type Idp } from '../support/idp.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const CLIENT_ID = 'upfront-demo';

/** Serves a fetch-style handler over node:http on 127.0.0.1; answers its URL. */
async function listen(handler: (request: Request) => Promise<Response> | Response): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req: IncomingMessage, res) => {
    const url = `http://${req.headers.host}${req.url}`;
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : (Readable.toWeb(req) as ReadableStream);
    const response = await handler(new Request(url, { method: req.method, headers: req.headers as Record<string, string>, body, duplex: 'half' } as RequestInit));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const base64url = (bytes: Buffer) => bytes.toString('base64url');

/** An OpenID provider: discovery, an authorize endpoint that signs "Olivia" in at once, and a token endpoint checking PKCE. */
function provider(idp: Idp, issuer: () => string) {
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const cors = { 'access-control-allow-origin': '*' };
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: { ...cors, 'access-control-allow-headers': 'content-type' } });
    if (url.pathname === '/.well-known/openid-configuration') {
      return Response.json({ issuer: issuer(), authorization_endpoint: `${issuer()}/authorize`, token_endpoint: `${issuer()}/token`, code_challenge_methods_supported: ['S256'] }, { headers: cors });
    }
    if (url.pathname === '/authorize') {
      const query = url.searchParams;
      const redirectUri = query.get('redirect_uri')!;
      if (query.get('client_id') !== CLIENT_ID || query.get('response_type') !== 'code' || query.get('code_challenge_method') !== 'S256' || !query.get('code_challenge')) {
        return new Response('bad authorization request', { status: 400 });
      }
      const code = randomUUID();
      codes.set(code, { challenge: query.get('code_challenge')!, redirectUri });
      const back = new URL(redirectUri);
      back.search = new URLSearchParams({ code, state: query.get('state') ?? '' }).toString();
      return new Response(null, { status: 302, headers: { location: back.href } });
    }
    if (url.pathname === '/token' && request.method === 'POST') {
      const form = new URLSearchParams(await request.text());
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (!grant || form.get('client_id') !== CLIENT_ID || form.get('redirect_uri') !== grant.redirectUri || base64url(createHash('sha256').update(verifier).digest()) !== grant.challenge) {
        return Response.json({ error: 'invalid_grant', error_description: 'the code, verifier, client or redirect URI does not match' }, { status: 400, headers: cors });
      }
      const claims = { sub: 'olivia-1', name: 'Olivia' };
      return Response.json(
        {
          token_type: 'Bearer',
          access_token: await idp.sign(claims, { issuer: issuer() }),
          id_token: await idp.sign(claims, { issuer: issuer(), audience: CLIENT_ID }),
          expires_in: 600,
        },
        { headers: cors },
      );
    }
    return new Response('not found', { status: 404 });
  };
}

describe('the demo app signs in with OpenID Connect (authorization code + PKCE, Chromium)', () => {
  let idp: Idp;
  let op: { url: string; server: Server };
  let api: TestServer;
  let site: { url: string; server: Server };
  let siteDir: string;
  let browser: Browser;

  before(async () => {
    idp = await startIdp();
    let issuer = '';
    op = await listen(provider(idp, () => issuer));
    issuer = op.url;
    api = await startTestServer({ driver: 'disk', env: { AUTH_DEV_ISSUER: 'false', AUTH_JWKS_URL: idp.jwksUrl, AUTH_ISSUER: issuer, AUTH_AUDIENCE: idp.audience } });
    // The built app with its <meta> tags filled in, served from an origin of its own.
    siteDir = await mkdtemp(join(tmpdir(), 'upfront-oidc-site-'));
    await cp(await buildWeb(), siteDir, { recursive: true });
    const index = join(siteDir, 'index.html');
    const page = (await readFile(index, 'utf8'))
      .replace('<meta name="upfront-api" content="">', `<meta name="upfront-api" content="${api.url}">`)
      .replace('<meta name="upfront-oidc-issuer" content="">', `<meta name="upfront-oidc-issuer" content="${issuer}">`)
      .replace('<meta name="upfront-oidc-client-id" content="">', `<meta name="upfront-oidc-client-id" content="${CLIENT_ID}">`);
    await writeFile(index, page);
    site = await listen(staticFiles(siteDir));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    site?.server.close();
    op?.server.close();
    await api?.close();
    await idp?.close();
    if (siteDir) await rm(siteDir, { recursive: true, force: true });
  });

  it('signs in at the provider, comes back signed in, and uploads with the access token', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    const trouble = recordPageTrouble(page);
    try {
      await page.goto(`${site.url}/`);
      assert.equal(await page.locator('#signin-name').count(), 0, 'no dev sign-in when a provider is configured');
      const authorize = page.waitForRequest((request) => request.url().startsWith(`${op.url}/authorize`));
      await page.getByRole('button', { name: /^Sign in with 127\.0\.0\.1/ }).click();
      const asked = new URL((await authorize).url()).searchParams;
      assert.equal(asked.get('redirect_uri'), `${site.url}/`);
      assert.equal(asked.get('code_challenge_method'), 'S256');

      await page.waitForSelector('main[data-session=signed-in]');
      assert.equal(await page.textContent('[data-testid="session-user"]'), 'Olivia');
      assert.equal(new URL(page.url()).search, '', 'the code is gone from the address bar');

      await page.waitForSelector(`${DROP_INPUT}:enabled`, { state: 'attached' });
      await page.setInputFiles(DROP_INPUT, { name: 'signed-in.png', mimeType: 'image/png', buffer: makePng({ width: 16, height: 16 }) });
      assert.equal(await uploadOutcome(page, 'signed-in.png'), 'done', `${await rowText(page, 'signed-in.png')}\n${trouble.join('\n')}`);
      await page.waitForSelector(galleryCard('signed-in.png'));
    } finally {
      await context.close();
    }
  });

  it('refuses a callback this tab did not start, in words', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${site.url}/?code=forged&state=not-mine`);
      const alert = page.locator('[role=alert][data-error-code=oidc_state_mismatch]');
      await alert.waitFor();
      assert.match(await alert.innerText(), /sign in again/);
      assert.equal(await page.getAttribute('main', 'data-session'), 'signed-out');
    } finally {
      await context.close();
    }
  });
});
