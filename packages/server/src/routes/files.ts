import type { Hono } from 'hono';
import type { Env } from '../http/context.ts';
import { idParam, parseInput } from '../http/context.ts';
import { fileJson } from '../http/file-json.ts';
import { ListFilesQuery, type FileListJson } from '../http/schemas.ts';
import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { FileRecord } from '../store/types.ts';

async function ownFile(services: Services, userId: string, id: string): Promise<FileRecord> {
  const file = await services.store.getFile(id);
  if (!file || file.userId !== userId) throw new UpfrontError('not_found', 'No file with this id belongs to you.');
  return file;
}

export function fileRoutes(app: Hono<Env>, services: Services): void {
  app.get('/v1/files', async (c) => {
    const { limit = 50, before } = parseInput(ListFilesQuery, c.req.query());
    const files = await services.store.listFiles(c.get('user').id, { limit: limit + 1, ...(before && { before }) });
    const page = files.slice(0, limit);
    const list: FileListJson = {
      files: await Promise.all(page.map((f) => fileJson(services, f))),
      next: files.length > limit ? page[page.length - 1]!.id : null,
    };
    return c.json(list);
  });

  app.get('/v1/files/:id', async (c) => {
    return c.json(await fileJson(services, await ownFile(services, c.get('user').id, idParam(c, 'file'))));
  });

  // Object first, then record: a failure in between leaves a record whose delete can be retried,
  // never a served object without a record.
  app.delete('/v1/files/:id', async (c) => {
    const file = await ownFile(services, c.get('user').id, idParam(c, 'file'));
    await services.storage.delete(file.visibility, file.key);
    await services.store.deleteFile(file.id);
    return c.body(null, 204);
  });
}
