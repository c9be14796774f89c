import { randomUUID } from 'node:crypto';
import type { RouteConfig } from '../config.ts';
import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { PresignedPost, PresignedPut } from '../storage/types.ts';
import type { UploadRecord } from '../store/types.ts';
import { extensionFor, normaliseContentType } from './content-types.ts';
import { sanitiseFilename } from './filename.ts';
import { renderKey } from './key-template.ts';

export interface CreateUploadResult {
  upload: UploadRecord;
  put?: PresignedPut;
  post?: PresignedPost;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MB` : `${+(bytes / 1024).toFixed(1)} KB`;
}

function field(body: Record<string, unknown>, name: string, type: 'string' | 'number'): unknown {
  const value = body[name];
  if (typeof value !== type) {
    throw new UpfrontError('invalid_request', `Send "${name}" as a ${type} in the JSON body.`);
  }
  return value;
}

function findRoute(services: Services, name: unknown): RouteConfig {
  const route = typeof name === 'string' ? services.config.routes.get(name) : undefined;
  if (!route) {
    const names = [...services.config.routes.keys()].join(', ');
    throw new UpfrontError('invalid_request', `Unknown route ${JSON.stringify(name)}; use one of: ${names}.`);
  }
  return route;
}

/**
 * Checks the user's declared file against the route's rules and answers with a signed request that
 * lets storage enforce them: exact key and type, and the declared length (PUT) or a length range up to
 * it (POST). Nothing is written to storage here.
 */
export async function createUpload(services: Services, userId: string, body: unknown): Promise<CreateUploadResult> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new UpfrontError('invalid_request', 'Send a JSON object: {"route", "filename", "contentType", "size"}.');
  }
  const input = body as Record<string, unknown>;
  const route = findRoute(services, input.route);
  const filename = sanitiseFilename(input.filename);
  const contentType = normaliseContentType(field(input, 'contentType', 'string') as string);
  const size = field(input, 'size', 'number') as number;

  if (!contentType || !route.types.includes(contentType)) {
    throw new UpfrontError('type_not_allowed',
      `The "${route.name}" route accepts ${route.types.join(', ')}; ${JSON.stringify(input.contentType)} is not one of them.`,
    );
  }
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new UpfrontError('invalid_request', 'Send "size" as the file\'s length in bytes, a whole number of at least 1.');
  }
  if (size > route.maxSize) {
    throw new UpfrontError('file_too_large',
      `The file is ${formatSize(size)}; the "${route.name}" route accepts files up to ${formatSize(route.maxSize)}. Choose a smaller file.`,
    );
  }

  const now = new Date();
  const id = randomUUID();
  const key = renderKey(route.keyTemplate, {
    user: userId,
    route: route.name,
    date: now.toISOString().slice(0, 10).replace(/-/g, ''),
    uuid: id,
    ext: extensionFor(contentType),
  });
  const upload = await services.store.createUpload({
    id,
    userId,
    route: route.name,
    strategy: route.strategy,
    key,
    visibility: route.visibility,
    filename,
    contentType,
    size,
    expiresAt: new Date(now.getTime() + route.expiresIn * 1000),
  });
  const signed = { key, contentType, expiresIn: route.expiresIn };
  return route.strategy === 'put'
    ? { upload, put: await services.storage.presignPut({ ...signed, contentLength: size }) }
    : { upload, post: await services.storage.presignPost({ ...signed, maxSize: size }) };
}
