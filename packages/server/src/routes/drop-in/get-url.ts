/**
 * `GET /uploads` → `{uploadURL, Key}`: the browser then PUTs the file with the contract's Content-Type
 * (a Lambda behind API Gateway signing one fixed type, as AWS's own example has it). No finalize call:
 * storage events (or, on the disk driver, its own notification) verify and promote.
 */
import type { Hono } from 'hono';
import type { Env } from '../../http/context.ts';
import { extensionFor } from '../../uploads/content-types.ts';
import type { DropInConfig } from './config.ts';
import { createDropInUpload, dropInCors, putUrl, userOf, type DropInDeps } from './shared.ts';

export function getUrlRoutes(app: Hono<Env>, deps: DropInDeps, contract: NonNullable<DropInConfig['getUrl']>): void {
  app.use(contract.path, dropInCors(deps.services.config.corsOrigins, ['GET']));
  app.get(contract.path, async (c) => {
    const { contentType } = contract;
    const created = await createDropInUpload(deps, await userOf(c, deps), contract, { filename: `upload.${extensionFor(contentType)}`, contentType, strategy: 'put' });
    return c.json({ uploadURL: putUrl(created), Key: created.upload.key });
  });
}
