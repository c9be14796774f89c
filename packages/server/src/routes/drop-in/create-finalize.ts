/**
 * `POST /upload/create` `{original_filename, content_type}` → `{key, presigned_upload_url}`; the browser
 * PUTs the file (XHR, with its Content-Type), then `POST /upload/finalize` `{upload_key, filename}`
 * verifies and promotes it (complete-upload, as POST /v1/uploads/:id/complete) → the file, as the API
 * answers it. Finalize answers the same after storage events finalized the upload first.
 */
import type { Hono } from 'hono';
import * as v from 'valibot';
import { UpfrontError } from '../../errors.ts';
import { readBody, type Env } from '../../http/context.ts';
import { fileJson } from '../../http/file-json.ts';
import type { UploadRecord } from '../../store/types.ts';
import { completeUpload } from '../../uploads/complete-upload.ts';
import type { DropInConfig } from './config.ts';
import { createDropInUpload, dropInCors, putUrl, userOf, type DropInDeps } from './shared.ts';

const CreateRequest = v.object(
  {
    original_filename: v.string('Send "original_filename" as a string: the file\'s name, e.g. "photo.png".'),
    content_type: v.string('Send "content_type" as a string: the file\'s type, e.g. "image/png".'),
  },
  'Send {"original_filename": "photo.png", "content_type": "image/png"}.',
);
const FinalizeRequest = v.object(
  {
    upload_key: v.string('Send "upload_key" as a string: the "key" the create call answered.'),
    // Kept for the tutorials' front ends; the name given at create is the file's.
    filename: v.optional(v.string('Send "filename" as a string.')),
  },
  'Send {"upload_key": "<the key create answered>", "filename": "photo.png"}.',
);

const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export function createFinalizeRoutes(app: Hono<Env>, deps: DropInDeps, contract: NonNullable<DropInConfig['createFinalize']>): void {
  const { services } = deps;
  app.use(contract.path, dropInCors(services.config.corsOrigins, ['POST']));
  app.use(contract.finalizePath, dropInCors(services.config.corsOrigins, ['POST']));

  app.post(contract.path, async (c) => {
    const user = await userOf(c, deps);
    const input = await readBody(c, CreateRequest, { original_filename: 'invalid_filename' });
    const created = await createDropInUpload(deps, user, contract, { filename: input.original_filename, contentType: input.content_type, strategy: 'put' });
    return c.json({ key: created.upload.key, presigned_upload_url: putUrl(created) });
  });

  app.post(contract.finalizePath, async (c) => {
    const user = await userOf(c, deps);
    const { upload_key: key } = await readBody(c, FinalizeRequest);
    const upload = await uploadOfKey(deps, user.id, contract.route, key);
    const file = await completeUpload(services, user.id, upload.id);
    return c.json(await fileJson(services, file));
  });
}

/** The user's upload of this contract with this key: its `{uuid}` is the upload's id (every template has one). */
async function uploadOfKey({ services }: DropInDeps, userId: string, route: string, key: string): Promise<UploadRecord> {
  for (const [id] of key.matchAll(UUIDS)) {
    const upload = await services.store.getUpload(id);
    if (upload && upload.key === key && upload.userId === userId && upload.route === route) return upload;
  }
  throw new UpfrontError('not_found', 'No upload of yours has this key; send the "key" the create call answered.');
}
