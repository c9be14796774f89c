/**
 * A request with `x-extension: png` → `{presignedUrl, key}` for a `uuid.ext` key: the browser then PUTs
 * the file with that extension's Content-Type. No finalize call: storage events (or, on the disk
 * driver, its own notification) verify and promote.
 */
import type { Hono } from 'hono';
import { UpfrontError } from '../../errors.ts';
import type { Env } from '../../http/context.ts';
import type { DropInConfig } from './config.ts';
import { createDropInUpload, dropInCors, putUrl, typeOfExtension, userOf, type DropInDeps } from './shared.ts';

export function extensionHeaderRoutes(app: Hono<Env>, deps: DropInDeps, contract: NonNullable<DropInConfig['extensionHeader']>): void {
  app.use(contract.path, dropInCors(deps.services.config.corsOrigins, ['GET', 'POST']));
  app.on(['GET', 'POST'], contract.path, async (c) => {
    const user = await userOf(c, deps);
    const extension = c.req.header('x-extension')?.trim();
    if (!extension) throw new UpfrontError('invalid_request', 'Send the file\'s extension in the x-extension header, e.g. "x-extension: png".');
    const contentType = typeOfExtension(deps, contract, extension);
    const created = await createDropInUpload(deps, user, contract, { filename: `upload.${extension.toLowerCase()}`, contentType, strategy: 'put' });
    return c.json({ presignedUrl: putUrl(created), key: created.upload.key });
  });
}
