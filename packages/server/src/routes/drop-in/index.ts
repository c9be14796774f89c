/**
 * The drop-in endpoints: the request and answer shapes of the usual hand-rolled signers, so a front
 * end written for one keeps working against Upfront. Each is off unless configured (config.ts), runs
 * through the API's auth, a route's rules, verification and promotion, and answers errors as
 * problem+json. Outside /v1 and the OpenAPI document: they are compatibility shims, not the API.
 */
import type { Hono } from 'hono';
import type { Authenticate } from '../../auth/authenticate.ts';
import type { Env } from '../../http/context.ts';
import type { Services } from '../../services.ts';
import { createFinalizeRoutes } from './create-finalize.ts';
import { extensionHeaderRoutes } from './extension-header.ts';
import { getUrlRoutes } from './get-url.ts';
import { policyDocumentRoutes } from './policy-document.ts';

export function dropInRoutes(app: Hono<Env>, services: Services, authenticate: Authenticate): void {
  const { dropIn } = services.config;
  if (!dropIn) return;
  const deps = { services, authenticate };
  if (dropIn.createFinalize) createFinalizeRoutes(app, deps, dropIn.createFinalize);
  if (dropIn.getUrl) getUrlRoutes(app, deps, dropIn.getUrl);
  if (dropIn.extensionHeader) extensionHeaderRoutes(app, deps, dropIn.extensionHeader);
  if (dropIn.policyDocument) policyDocumentRoutes(app, deps, dropIn.policyDocument);
}
