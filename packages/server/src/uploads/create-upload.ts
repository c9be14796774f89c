import { randomUUID } from 'node:crypto';
import { MAX_PARTS, type RouteConfig } from '../config.ts';
import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import { profileOf } from '../storage/providers.ts';
import type { PresignedPost, PresignedPut } from '../storage/types.ts';
import type { NewUpload, Strategy, UploadRecord } from '../store/types.ts';
import { extensionFor, normaliseContentType } from './content-types.ts';
import { sanitiseFilename } from './filename.ts';
import { compareSizes } from './format-size.ts';
import { quotaChecks, quotaExceededError } from '../quotas/quota-checks.ts';
import { checkCreateRate } from '../quotas/rate-limit.ts';
import { renderKey } from './key-template.ts';

/** What the user declares about the file (shape already checked by the HTTP layer). */
export interface NewUploadInput {
  route: string;
  filename: string;
  contentType: string;
  /** Bytes, a whole number ≥ 1. */
  size: number;
  /** Base64 MD5 of the whole file. */
  md5?: string;
  /** Hex SHA-256 of the whole file. */
  sha256?: string;
  /** The client's fingerprint of the file, to find an unfinished upload of it again. */
  fingerprint?: string;
  /** The id of one of the user's files on the same route: the upload becomes a new version of it. */
  replaces?: string;
  /**
   * The drop-in endpoints' (routes/drop-in/): no size was declared, so `size` is the most the file may be
   * (the route's maxSize, reserved against quotas) and verification records what storage received.
   */
  sizeUnknown?: boolean;
  /** A drop-in endpoint's own key template and way of sending (one PUT or one POST form), instead of the route's. */
  keyTemplate?: string;
  strategy?: 'put' | 'post';
  /** More POST form fields the drop-in's browser code sends (`acl`), signed as exact values. */
  postFields?: Record<string, string>;
}

export interface CreateUploadResult {
  upload: UploadRecord;
  put?: PresignedPut;
  post?: PresignedPost;
  /** An unfinished upload of the same file (by fingerprint), answered instead of a new one. */
  resumed?: boolean;
}

/**
 * The file a replacement names: the user's own (others' files are as missing, as everywhere), on the
 * same route (its rules and visibility are the file's). Its staging key stays the upload's own, so
 * replacements in flight at once never share staged bytes: each completes as a version, the last current.
 */
async function checkReplaced(services: Services, userId: string, route: RouteConfig, id: string): Promise<void> {
  const file = await services.store.getFile(id);
  if (!file || file.userId !== userId) {
    throw new UpfrontError('not_found', 'No file with the id in "replaces" belongs to you; name one of your files (GET /v1/files).');
  }
  if (file.route !== route.name) {
    throw new UpfrontError(
      'invalid_request',
      `The file in "replaces" was uploaded on the "${file.route}" route; replace it with an upload on that route.`,
    );
  }
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
 * Checks the user's declared file against the route's rules and answers with what lets storage
 * enforce them: a signed PUT (exact key, type, length and, if declared, MD5), a POST policy (a length
 * range up to the size), or a multipart upload whose parts are signed later, each with its exact
 * length. An unfinished multipart upload of the same file (same fingerprint) is answered instead of a
 * new one, so a client can resume after a reload. Nothing is written to storage but the multipart start.
 */
export async function createUpload(services: Services, userId: string, input: NewUploadInput): Promise<CreateUploadResult> {
  const { storage } = services;
  await checkCreateRate(services, userId);
  const route = findRoute(services, input.route);
  const filename = sanitiseFilename(input.filename);
  const contentType = normaliseContentType(input.contentType);
  const { size } = input;

  if (!contentType || !route.types.includes(contentType)) {
    services.metrics.uploadsRejected.inc({ route: route.name, reason: 'type_not_allowed' });
    throw new UpfrontError(
      'type_not_allowed',
      `The "${route.name}" route accepts ${route.types.join(', ')}; ${JSON.stringify(input.contentType)} is not one of them.`,
    );
  }
  if (size > route.maxSize) {
    const [file, limit] = compareSizes(size, route.maxSize);
    services.metrics.uploadsRejected.inc({ route: route.name, reason: 'file_too_large' });
    throw new UpfrontError('file_too_large', `The file is ${file}; the "${route.name}" route accepts files up to ${limit}. Choose a smaller file.`);
  }

  if (input.replaces !== undefined) await checkReplaced(services, userId, route, input.replaces);

  const now = new Date();
  if (input.fingerprint !== undefined) {
    const found = await services.store.findResumableUpload(userId, input.fingerprint, now);
    const same = found?.route === route.name && found.size === size && found.contentType === contentType && found.replaces === (input.replaces ?? null);
    if (found?.multipart && same) {
      return { upload: found, resumed: true };
    }
  }

  const strategy = chooseStrategy(input.strategy ? { ...route, strategy: input.strategy } : route, size, takesPostPolicy(services.config.storage));
  const id = randomUUID();
  const key = renderKey(input.keyTemplate ?? route.keyTemplate, {
    user: userId,
    route: route.name,
    date: now.toISOString().slice(0, 10).replace(/-/g, ''),
    uuid: id,
    filename,
    ext: extensionFor(contentType),
  });
  const upload = {
    id,
    userId,
    route: route.name,
    strategy,
    key,
    visibility: route.visibility,
    filename,
    contentType,
    size,
    multipart: null,
    contentMd5: input.md5 ?? null,
    sha256: input.sha256 ?? null,
    fingerprint: input.fingerprint ?? null,
    replaces: input.replaces ?? null,
    sizeUnknown: input.sizeUnknown ?? false,
    expiresAt: new Date(now.getTime() + route.expiresIn * 1000),
  };
  if (strategy === 'multipart') {
    const record = await createMultipartUpload(services, route, upload, now);
    services.metrics.uploadsCreated.inc({ route: route.name, strategy });
    return { upload: record };
  }

  const record = await insertUpload(services, route, upload);
  services.metrics.uploadsCreated.inc({ route: route.name, strategy });
  const signed = { key, contentType, expiresIn: route.expiresIn };
  const length = input.sizeUnknown ? { maxSize: size } : { contentLength: size };
  return strategy === 'put'
    ? { upload: record, put: await storage.presignPut({ ...signed, ...length, ...(input.md5 !== undefined && { contentMd5: input.md5 }) }) }
    : { upload: record, post: await storage.presignPost({ ...signed, maxSize: size, ...(input.postFields && { fields: input.postFields }) }) };
}

/** Records the new upload, within the user's quotas where the route has any. */
async function insertUpload(services: Services, route: RouteConfig, upload: NewUpload): Promise<UploadRecord> {
  const checks = quotaChecks(services.config, route);
  if (checks.length === 0) return services.store.createUpload(upload);
  const result = await services.store.createUploadWithinQuota(upload, checks);
  if ('upload' in result) return result.upload;
  services.metrics.uploadsRejected.inc({ route: route.name, reason: 'quota_exceeded' });
  throw quotaExceededError(result.exceeded, upload.size);
}

/** Starts the multipart upload in storage, then records it; a failed record (or a full quota) aborts it again. */
async function createMultipartUpload(services: Services, route: RouteConfig, upload: NewUpload, now: Date): Promise<UploadRecord> {
  const { storage } = services;
  const partSize = choosePartSize(upload.size, route.partSize);
  const uploadId = await storage.createMultipart(upload.key, upload.contentType);
  try {
    return await insertUpload(services, route, {
      ...upload,
      multipart: { uploadId, partSize, partCount: Math.ceil(upload.size / partSize) },
      // The session lives long enough for a big file; each part URL still expires after route.expiresIn.
      expiresAt: new Date(now.getTime() + route.multipartExpiresIn * 1000),
    });
  } catch (error) {
    await storage.abortMultipart(upload.key, uploadId).catch(() => undefined);
    throw error;
  }
}

/** The route's strategy (`auto`: by size); where storage takes no POST policy (R2, B2), a POST is a PUT. */
export function chooseStrategy(route: Pick<RouteConfig, 'strategy' | 'multipartThreshold'>, size: number, postPolicy: boolean): Strategy {
  const strategy = route.strategy !== 'auto' ? route.strategy : size > route.multipartThreshold ? 'multipart' : 'put';
  return strategy === 'post' && !postPolicy ? 'put' : strategy;
}

/** The disk endpoint verifies POST policies itself; an S3 store takes them as its provider's profile says. */
export const takesPostPolicy = (storage: Services['config']['storage']): boolean => storage.driver !== 's3' || profileOf(storage).postPolicy;

/** The route's part size, raised (in whole MiB) where the file would need more than 10,000 parts. */
export function choosePartSize(size: number, partSize: number): number {
  const MiB = 1024 * 1024;
  return Math.max(partSize, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}
