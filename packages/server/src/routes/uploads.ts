import type { Hono } from 'hono';
import type { Env } from '../http/context.ts';
import { idParam, readJson } from '../http/context.ts';
import { fileJson } from '../http/file-json.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import type { UploadRecord } from '../store/types.ts';
import { completeUpload, ownUpload } from '../uploads/complete-upload.ts';
import { createUpload } from '../uploads/create-upload.ts';

function uploadJson(upload: UploadRecord) {
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
    const { upload, put, post } = await createUpload(services, c.get('user').id, await readJson(c));
    return c.json({ ...uploadJson(upload), ...(put && { put }), ...(post && { post }) }, 201);
  });

  app.get('/v1/uploads/:id', async (c) => {
    return c.json(uploadJson(await ownUpload(services, c.get('user').id, idParam(c, 'upload'))));
  });

  app.post('/v1/uploads/:id/complete', async (c) => {
    const file = await completeUpload(services, c.get('user').id, idParam(c, 'upload'));
    return c.json(await fileJson(services, file));
  });

  // Abort: the staged bytes (if any) are deleted; a finished upload cannot be aborted (delete the file).
  app.delete('/v1/uploads/:id', async (c) => {
    const upload = await ownUpload(services, c.get('user').id, idParam(c, 'upload'));
    const aborted = await services.store.transitionUpload(upload.id, ['pending', 'uploaded'], 'aborted');
    if (!aborted && upload.state !== 'aborted') {
      throw new ApiError(409, 'invalid_request', `This upload is ${upload.state} and can no longer be aborted.`);
    }
    await services.storage.delete('staging', upload.key);
    return c.body(null, 204);
  });
}
