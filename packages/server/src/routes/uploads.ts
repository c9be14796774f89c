import type { Hono } from 'hono';
import type { Env } from '../http/context.ts';
import { idParam, readBody } from '../http/context.ts';
import { fileJson } from '../http/file-json.ts';
import { CreateUploadRequest, type CreatedUploadJson, type UploadJson } from '../http/schemas.ts';
import type { Services } from '../services.ts';
import type { UploadRecord } from '../store/types.ts';
import { abortUpload } from '../uploads/abort-upload.ts';
import { completeUpload } from '../uploads/complete-upload.ts';
import { createUpload } from '../uploads/create-upload.ts';
import { ownUpload } from '../uploads/own-upload.ts';

function uploadJson(upload: UploadRecord): UploadJson {
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
    errorCode: upload.errorCode,
  };
}

export function uploadRoutes(app: Hono<Env>, services: Services): void {
  app.post('/v1/uploads', async (c) => {
    const input = await readBody(c, CreateUploadRequest, { filename: 'invalid_filename' });
    const { upload, put, post } = await createUpload(services, c.get('user').id, input);
    const created: CreatedUploadJson = { ...uploadJson(upload), ...(put && { put }), ...(post && { post }) };
    return c.json(created, 201);
  });

  app.get('/v1/uploads/:id', async (c) => {
    return c.json(uploadJson(await ownUpload(services, c.get('user').id, idParam(c, 'upload'))));
  });

  app.post('/v1/uploads/:id/complete', async (c) => {
    const file = await completeUpload(services, c.get('user').id, idParam(c, 'upload'));
    return c.json(await fileJson(services, file));
  });

  app.delete('/v1/uploads/:id', async (c) => {
    await abortUpload(services, c.get('user').id, idParam(c, 'upload'));
    return c.body(null, 204);
  });
}
