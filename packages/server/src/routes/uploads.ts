import type { Context, Hono } from 'hono';
import type { Env } from '../http/context.ts';
import { idParam, readBody } from '../http/context.ts';
import { fileJson } from '../http/file-json.ts';
import {
  CompleteUploadRequest,
  CreateUploadRequest,
  SignPartsRequest,
  type CreatedUploadJson,
  type SignedPartsJson,
  type UploadJson,
} from '../http/schemas.ts';
import type { Services } from '../services.ts';
import type { StoredPart } from '../storage/types.ts';
import type { UploadRecord } from '../store/types.ts';
import { abortUpload } from '../uploads/abort-upload.ts';
import { completeUpload, type Declared } from '../uploads/complete-upload.ts';
import { createUpload } from '../uploads/create-upload.ts';
import { ownUpload } from '../uploads/own-upload.ts';
import { signParts } from '../uploads/sign-parts.ts';

function uploadJson(upload: UploadRecord, parts?: StoredPart[]): UploadJson {
  return {
    id: upload.id,
    key: upload.key,
    route: upload.route,
    strategy: upload.strategy,
    state: upload.state,
    filename: upload.filename,
    contentType: upload.contentType,
    size: upload.size,
    expiresAt: upload.expiresAt.toISOString(),
    fileId: upload.fileId,
    replaces: upload.replaces,
    errorCode: upload.errorCode,
    multipart: upload.multipart && { partSize: upload.multipart.partSize, partCount: upload.multipart.partCount },
    ...(parts && { parts: parts.map(({ partNumber, size, etag }) => ({ partNumber, size, etag })) }),
  };
}

/** The parts storage holds for an unfinished multipart upload (what a resuming client need not send again). */
async function storedParts({ storage }: Services, upload: UploadRecord): Promise<StoredPart[] | undefined> {
  if (!upload.multipart || upload.state !== 'pending') return undefined;
  return (await storage.listParts(upload.key, upload.multipart.uploadId)) ?? [];
}

/** complete takes an optional body: what the client declares of the bytes it sent. */
async function declaredOf(c: Context<Env>): Promise<Declared> {
  const length = c.req.header('content-length');
  if ((length === undefined || length === '0') && c.req.header('transfer-encoding') === undefined) return {};
  return readBody(c, CompleteUploadRequest);
}

export function uploadRoutes(app: Hono<Env>, services: Services): void {
  app.post('/v1/uploads', async (c) => {
    const input = await readBody(c, CreateUploadRequest, { filename: 'invalid_filename' });
    const { upload, put, post, resumed } = await createUpload(services, c.get('user').id, input);
    const parts = resumed ? await storedParts(services, upload) : undefined;
    const created: CreatedUploadJson = { ...uploadJson(upload, parts), ...(put && { put }), ...(post && { post }) };
    // An unfinished upload of the same file is answered as it is (200), a new one as created (201).
    return c.json(created, resumed ? 200 : 201);
  });

  app.get('/v1/uploads/:id', async (c) => {
    const upload = await ownUpload(services, c.get('user').id, idParam(c, 'upload'));
    return c.json(uploadJson(upload, await storedParts(services, upload)));
  });

  app.post('/v1/uploads/:id/parts', async (c) => {
    const { parts } = await readBody(c, SignPartsRequest);
    const signed = await signParts(services, c.get('user').id, idParam(c, 'upload'), parts);
    const answer: SignedPartsJson = { parts: signed.parts, expiresAt: signed.expiresAt.toISOString() };
    return c.json(answer);
  });

  app.post('/v1/uploads/:id/complete', async (c) => {
    const id = idParam(c, 'upload');
    const file = await completeUpload(services, c.get('user').id, id, await declaredOf(c));
    return c.json(await fileJson(services, file));
  });

  app.delete('/v1/uploads/:id', async (c) => {
    await abortUpload(services, c.get('user').id, idParam(c, 'upload'));
    return c.body(null, 204);
  });
}
