/**
 * Upfront for Uppy: files go through Uppy's own S3 uploader (@uppy/aws-s3), straight to storage, with
 * every signature, rule and check Upfront's. Before Uppy sends a file, Upfront is asked for an upload
 * (the route's rules apply: a refused file fails in Uppy with the API's sentence); Uppy's S3 requests
 * are signed by the API; once the bytes are in storage, Upfront's complete verifies and promotes them.
 */
import AwsS3, { type AwsS3Options } from '@uppy/aws-s3';
import { BasePlugin, type Body, type Meta, type PluginOpts, type Uppy, type UppyFile } from '@uppy/core';
import { UpfrontError, type CreatedUpload, type CreateUploadRequest, type SignedParts, type Upload, type UploadedFile } from '@upfront/client';
import { apiCaller, type Api, type Token } from './api.ts';
import { aborted, assembled, initiated, listed } from './s3-answers.ts';

export interface UpfrontOptions extends PluginOpts {
  /** Base URL of the Upfront API, e.g. "https://uploads.example.com". */
  endpoint: string;
  /** The user's bearer token, or a function asked before every API call (so it can refresh). */
  token: Token;
  /** The server route files go up under, e.g. "image": its types and size limit apply. */
  route: string;
}

/**
 * `file.response.body` of a file Upfront has stored: the file as the API describes it (id, url, size,
 * sha256, …). Give it to Uppy as its body type: `new Uppy<Meta, UpfrontBody>()`.
 */
export type UpfrontBody = UploadedFile & Body;

type SignRequest = Extract<AwsS3Options<Meta, Body>, { signRequest: unknown }>['signRequest'];
type S3Request = Parameters<SignRequest>[0];
type Signed = Awaited<ReturnType<SignRequest>>;

/** A signed PUT or POST used later than this before it expires is replaced by a new upload. */
const FRESH_FOR = 60_000;

const pathOf = (id: string) => `/v1/uploads/${encodeURIComponent(id)}`;

export default class Upfront<M extends Meta, B extends Body> extends BasePlugin<UpfrontOptions, M, B> {
  readonly #api: Api;
  /** Each Uppy file's unfinished Upfront upload, or why the API refused to create it. */
  readonly #uploads = new Map<string, CreatedUpload | UpfrontError>();
  /** Part sizes by file size: Uppy cuts a file knowing only its size, and must cut it as Upfront signs it. */
  readonly #partSizes = new Map<number, number>();
  readonly #aborts = new Map<string, Promise<void>>();

  constructor(uppy: Uppy<M, B>, opts: UpfrontOptions) {
    super(uppy, opts);
    this.id = opts.id ?? 'Upfront';
    this.type = 'modifier';
    this.#api = apiCaller(opts.endpoint, opts.token);
  }

  override install(): void {
    this.uppy.addPreProcessor(this.#createUploads);
    this.uppy.addPostProcessor(this.#completeUploads);
    this.uppy.on('file-removed', this.#abandon);
    this.uppy.use(AwsS3<M, B>, {
      id: this.#s3Id,
      signRequest: this.#sign,
      // Uppy's key names the file until Upfront's upload gives the real one.
      generateObjectKey: (file) => file.id,
      shouldUseMultipart: (file) => this.#created(file.id)?.multipart != null,
      getChunkSize: ({ size }) => this.#partSizes.get(size) ?? size,
    });
  }

  override uninstall(): void {
    const s3 = this.uppy.getPlugin(this.#s3Id);
    if (s3) this.uppy.removePlugin(s3);
    this.uppy.removePreProcessor(this.#createUploads);
    this.uppy.removePostProcessor(this.#completeUploads);
    this.uppy.off('file-removed', this.#abandon);
  }

  get #s3Id(): string {
    return `${this.id}:AwsS3`;
  }

  #created(fileId: string): CreatedUpload | undefined {
    const upload = this.#uploads.get(fileId);
    return upload instanceof UpfrontError ? undefined : upload;
  }

  /** Asks Upfront for an upload of each local file that has none yet (a retried file keeps its own). */
  #createUploads = async (fileIDs: string[]): Promise<void> => {
    const files = fileIDs.map((id) => this.uppy.getFile(id)).filter((file) => file && !file.isRemote && !this.#created(file.id));
    await Promise.all(files.map((file) => this.#create(file)));
  };

  async #create(file: UppyFile<M, B>): Promise<CreatedUpload | UpfrontError> {
    const body: CreateUploadRequest = {
      route: this.opts.route,
      filename: file.name,
      contentType: file.type || 'application/octet-stream',
      size: file.size ?? 0,
    };
    let upload: CreatedUpload | UpfrontError;
    try {
      upload = await this.#api<CreatedUpload>('POST', '/v1/uploads', body);
      if (upload.multipart) this.#partSizes.set(upload.size, upload.multipart.partSize);
    } catch (error) {
      // Reported by Uppy for this file when it goes to send it (see #sign).
      upload = error instanceof UpfrontError ? error : new UpfrontError('api_unavailable', String(error));
    }
    this.#uploads.set(file.id, upload);
    return upload;
  }

  /** Signs Uppy's S3 requests: the ones that carry bytes get Upfront's signed URLs, the others are done through the API. */
  #sign = async (request: S3Request): Promise<Signed> => {
    if ('uploadId' in request) {
      const path = pathOf(request.uploadId);
      switch (request.method) {
        case 'PUT': {
          const { parts } = await this.#api<SignedParts>('POST', `${path}/parts`, { parts: [{ partNumber: request.partNumber }] });
          const [part] = parts;
          if (!part) throw new UpfrontError('invalid_request', `The upload service signed no URL for part ${request.partNumber}.`);
          return { url: part.url, headers: part.headers };
        }
        case 'GET':
          return { url: listed((await this.#api<Upload>('GET', path)).parts ?? []) };
        case 'POST':
          return { url: assembled(this.opts.endpoint.replace(/\/+$/, '') + path, request.key) };
        case 'DELETE':
          await this.#abort(request.uploadId);
          return { url: aborted() };
      }
    }
    // Before Uppy holds an upload id, its key is the Uppy file's id (generateObjectKey).
    const upload = await this.#uploadFor(request.key, request.method === 'PUT');
    if (request.method === 'POST' && upload.multipart) return { url: initiated(upload.id, upload.key), key: upload.key };
    if (request.method === 'PUT' && upload.put) return { url: upload.put.url, headers: upload.put.headers, key: upload.key };
    if (request.method === 'PUT' && upload.post) return { url: upload.post.url, fields: upload.post.fields, key: upload.key };
    throw new UpfrontError('invalid_request', `Uppy asked to ${request.method} this file, but Upfront sends it with strategy ${upload.strategy}.`);
  };

  /** The file's upload; one sent in one request is created again if its signature is (nearly) out of date. */
  async #uploadFor(fileId: string, single: boolean): Promise<CreatedUpload> {
    let upload = this.#uploads.get(fileId);
    if (single && upload && !(upload instanceof UpfrontError) && Date.parse(upload.expiresAt) - Date.now() < FRESH_FOR) {
      upload = await this.#create(this.uppy.getFile(fileId));
    }
    if (upload instanceof UpfrontError) throw upload;
    if (!upload) throw new UpfrontError('invalid_request', 'This file has no Upfront upload: start uploads with uppy.upload().');
    return upload;
  }

  /** Aborts an upload once, whether Uppy asks (a multipart upload it was sending) or a file was removed. */
  #abort(id: string): Promise<void> {
    let pending = this.#aborts.get(id);
    if (!pending) {
      pending = this.#api<void>('DELETE', pathOf(id));
      this.#aborts.set(id, pending);
    }
    return pending;
  }

  #abandon = (file: UppyFile<M, B>): void => {
    const upload = this.#created(file.id);
    this.#uploads.delete(file.id);
    if (upload) this.#abort(upload.id).catch((error: unknown) => this.uppy.log(error, 'warning'));
  };

  /** Upfront's complete for each file whose bytes are in storage: verified, promoted, and its stored file on `file.response`. */
  #completeUploads = async (fileIDs: string[]): Promise<void> => {
    await Promise.all(
      fileIDs.map(async (id) => {
        const file = this.uppy.getFile(id);
        const upload = this.#created(id);
        if (!file || !upload || file.error || !file.progress.uploadComplete) return;
        this.uppy.emit('postprocess-progress', file, { mode: 'indeterminate', message: 'Verifying' });
        try {
          const stored = await this.#api<UploadedFile>('POST', `${pathOf(upload.id)}/complete`);
          this.#uploads.delete(id);
          if (!this.uppy.getFile(id)) return; // removed meanwhile
          this.uppy.setFileState(id, { response: { status: 200, body: stored as unknown as B, uploadURL: stored.url }, uploadURL: stored.url });
          this.uppy.emit('postprocess-complete', this.uppy.getFile(id));
        } catch (error) {
          // The upload stays: retrying the file completes it again (its bytes are in storage).
          if (this.uppy.getFile(id)) this.uppy.emit('upload-error', this.uppy.getFile(id), error instanceof Error ? error : new Error(String(error)));
        }
      }),
    );
  };
}
