import { randomUUID } from 'node:crypto';
import type { RouteConfig } from '../config.ts';
import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { PresignedPost, PresignedPut } from '../storage/types.ts';
import type { UploadRecord } from '../store/types.ts';
import { extensionFor, normaliseContentType } from './content-types.ts';
import { sanitiseFilename } from './filename.ts';
import { renderKey } from './key-template.ts';

/** What the user declares about the file (shape already checked by the HTTP layer). */
export interface NewUploadInput {
  route: string;
  filename: string;
  contentType: string;
  /** Bytes, a whole number ≥ 1. */
  size: number;
}

export interface CreateUploadResult {
  upload: UploadRecord;
  put?: PresignedPut;
  post?: PresignedPost;
}

/** Binary units with one decimal: "10 MB", "1.5 GB", "512 KB", or plain bytes below 1 KB. */
export function formatSize(bytes: number): string {
  const units = ['KB', 'MB', 'GB', 'TB'];
  if (bytes < 1024) return `${bytes} bytes`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${+value.toFixed(1)} ${units[unit]}`;
}

/** Two sizes as a person should compare them: exact bytes where rounding would make them look equal. */
export function compareSizes(size: number, limit: number): [string, string] {
  const [a, b] = [formatSize(size), formatSize(limit)];
  if (a !== b) return [a, b];
  const exact = (n: number) => `${n.toLocaleString('en-US')} bytes`;
  return [exact(size), `${exact(limit)} (${b})`];
}

function findRoute(services: Services, name: string): RouteConfig {
  const route = services.config.routes.get(name);
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
export async function createUpload(services: Services, userId: string, input: NewUploadInput): Promise<CreateUploadResult> {
  const route = findRoute(services, input.route);
  const filename = sanitiseFilename(input.filename);
  const contentType = normaliseContentType(input.contentType);
  const { size } = input;

  if (!contentType || !route.types.includes(contentType)) {
    throw new UpfrontError(
      'type_not_allowed',
      `The "${route.name}" route accepts ${route.types.join(', ')}; ${JSON.stringify(input.contentType)} is not one of them.`,
    );
  }
  if (size > route.maxSize) {
    const [file, limit] = compareSizes(size, route.maxSize);
    throw new UpfrontError('file_too_large', `The file is ${file}; the "${route.name}" route accepts files up to ${limit}. Choose a smaller file.`);
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
