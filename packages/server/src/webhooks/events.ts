/**
 * The webhook events, built for the store to write with the change they tell of (see the `event`
 * options of MetadataStore). Each builder answers `{}` for a route without a webhook, so callers spread
 * its answer into the store call's options and no outbox row is written for such routes.
 *
 * Body (Standard Webhooks' shape): `{"type": "upload.completed", "timestamp": "…", "data": {…}}`.
 */
import { randomUUID } from 'node:crypto';
import type { UpfrontConfig } from '../config.ts';
import { fileFields, type FileJson } from '../http/file-json.ts';
import type { Services } from '../services.ts';
import type { FileRecord, FileVersionRecord, NewOutboxMessage, UploadRecord } from '../store/types.ts';
import type { WebhookEventType } from '../store/webhook-outbox.ts';

/** The file as GET /v1/files/:id answers it; `url` only for a public file (a private one's is signed and short-lived). */
export type WebhookFileJson = Omit<FileJson, 'url' | 'variants'> & { url?: string };

function hasWebhook(config: UpfrontConfig, route: string): boolean {
  return config.routes.get(route)?.webhook !== undefined;
}

function message(route: string, type: WebhookEventType, data: Record<string, unknown>): NewOutboxMessage {
  return {
    id: `msg_${randomUUID().replaceAll('-', '')}`,
    route,
    type,
    payload: JSON.stringify({ type, timestamp: new Date().toISOString(), data }),
  };
}

function fileOf({ storage }: Services, file: FileRecord): WebhookFileJson {
  return { ...fileFields(file), ...(file.visibility === 'public' && { url: storage.publicUrl(file.key) }) };
}

/** `upload.completed` of a new file: built from the file the transaction records. */
export function uploadCompleted(services: Services, upload: UploadRecord): { event?: (file: FileRecord) => NewOutboxMessage } {
  if (!hasWebhook(services.config, upload.route)) return {};
  return {
    event: (file) =>
      message(upload.route, 'upload.completed', { uploadId: upload.id, route: upload.route, userId: upload.userId, replaces: null, file: fileOf(services, file) }),
  };
}

/** `upload.completed` of a replacement: the file as it is with the version the upload wrote. */
export function replacementCompleted(services: Services, upload: UploadRecord, file: FileRecord, version: Omit<FileVersionRecord, 'createdAt'>): { event?: NewOutboxMessage } {
  if (!hasWebhook(services.config, upload.route)) return {};
  const replaced = { ...file, filename: version.filename, contentType: version.contentType, size: version.size, sha256: version.sha256 };
  return {
    event: message(upload.route, 'upload.completed', { uploadId: upload.id, route: upload.route, userId: upload.userId, replaces: file.id, file: fileOf(services, replaced) }),
  };
}

/** `upload.rejected`: verification refused the bytes; `code` says why (e.g. content_type_mismatch). */
export function uploadRejected(services: Services, upload: UploadRecord, code: string): { event?: NewOutboxMessage } {
  if (!hasWebhook(services.config, upload.route)) return {};
  return { event: message(upload.route, 'upload.rejected', { uploadId: upload.id, route: upload.route, userId: upload.userId, code }) };
}

/** `file.deleted`: built from the row the transaction deletes. */
export function fileDeleted(services: Services, route: string): { event?: (file: FileRecord) => NewOutboxMessage } {
  if (!hasWebhook(services.config, route)) return {};
  return { event: (file) => message(file.route, 'file.deleted', { route: file.route, userId: file.userId, file: fileOf(services, file) }) };
}

/**
 * `file.version_restored`: `versionId` is the version restored, `file` the file as it is now, its bytes
 * a copy of that version's (storage's new current version).
 */
export function versionRestored(services: Services, file: FileRecord, restored: Omit<FileVersionRecord, 'createdAt'>): { event?: NewOutboxMessage } {
  if (!hasWebhook(services.config, file.route)) return {};
  const current = { ...file, filename: restored.filename, contentType: restored.contentType, size: restored.size, sha256: restored.sha256 };
  return {
    event: message(file.route, 'file.version_restored', { route: file.route, userId: file.userId, versionId: restored.versionId, file: fileOf(services, current) }),
  };
}
