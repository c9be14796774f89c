import type { Hono } from 'hono';
import type { Env } from '../http/context.ts';
import { idParam, parseInput } from '../http/context.ts';
import { fileJson } from '../http/file-json.ts';
import { ListFilesQuery, type FileListJson, type FileVersionListJson } from '../http/schemas.ts';
import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { FileRecord } from '../store/types.ts';
import { contentDisposition } from '../uploads/filename.ts';
import { listFileVersions, restoreFileVersion } from '../uploads/versions.ts';
import { fileDeleted } from '../webhooks/events.ts';
import { deleteVariants } from '../processors/variants.ts';

async function ownFile(services: Services, userId: string, id: string): Promise<FileRecord> {
  const file = await services.store.getFile(id);
  if (!file || file.userId !== userId) throw new UpfrontError('not_found', 'No file with this id belongs to you.');
  return file;
}

/** Storage's version ids are opaque, printable and at most 1,024 bytes (S3's limit); anything else names none. */
function versionParam(value: string | undefined): string {
  if (!value || !/^[\x21-\x7e]{1,1024}$/.test(value)) {
    throw new UpfrontError('not_found', 'This file has no version with this id; list its versions with GET /v1/files/{id}/versions.');
  }
  return value;
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
    await deleteVariants(services, file);
    await services.store.deleteFile(file.id, fileDeleted(services, file.route));
    return c.body(null, 204);
  });

  // Every version's URL is signed for exactly that version: a public URL always serves the current one.
  app.get('/v1/files/:id/versions', async (c) => {
    const { file, versions } = await listFileVersions(services, await ownFile(services, c.get('user').id, idParam(c, 'file')));
    const list: FileVersionListJson = {
      versions: await Promise.all(
        versions.map(async (version) => ({
          id: version.versionId,
          filename: version.filename,
          contentType: version.contentType,
          size: version.size,
          sha256: version.sha256,
          createdAt: version.createdAt.toISOString(),
          isCurrent: version.isCurrent,
          url: await services.storage.presignGet(file.visibility, file.key, {
            expiresIn: services.config.downloadExpiresIn,
            contentDisposition: contentDisposition('attachment', version.filename),
            versionId: version.versionId,
          }),
        })),
      ),
    };
    return c.json(list);
  });

  app.post('/v1/files/:id/versions/:versionId/restore', async (c) => {
    const file = await ownFile(services, c.get('user').id, idParam(c, 'file'));
    const restored = await restoreFileVersion(services, file, versionParam(c.req.param('versionId')));
    return c.json(await fileJson(services, restored));
  });
}
