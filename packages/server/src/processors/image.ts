/**
 * The built-in `image` processor. The staged image is streamed to a temporary file (never held in
 * memory whole) while its end is checked (image-end.ts); then sharp decodes all of it, failing on any
 * error and on more pixels than the route allows, so a truncated or malformed image, or one that is
 * something else too, is rejected `image_invalid`. Only then are its outputs made, in the same folder:
 * the image without its metadata (when the route strips it) and its variants. Writing them to storage
 * is the caller's (process-upload.ts), once every processor has accepted the file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sharp, SharpOptions } from 'sharp';
import { ObjectMissingError } from '../storage/errors.ts';
import type { ObjectHead, StorageDriver } from '../storage/types.ts';
import type { UploadRecord } from '../store/types.ts';
import type { Rejection } from '../uploads/verify-object.ts';
import type { ImageSettings, VariantSpec } from './config.ts';
import { ImageEnd } from './image-end.ts';
import { VARIANT_TYPES } from './variant-keys.ts';

/** An image written to a temporary file. */
export interface ImageOutput {
  path: string;
  contentType: string;
  size: number;
  width: number;
  height: number;
}

export interface PreparedImage {
  /** The image re-encoded without metadata, when the route strips it; else the staged bytes are kept. */
  stripped?: ImageOutput & { sha256: string };
  variants: (ImageOutput & { spec: VariantSpec })[];
  /** Removes the temporary files. */
  dispose(): Promise<void>;
}

const SHARP_FORMATS: Record<string, 'png' | 'jpeg' | 'webp' | 'gif'> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/webp': 'webp', 'image/gif': 'gif' };
/** Quality of a stripped JPEG or WebP: re-encoding is lossy for them, so it stays high. */
const STRIPPED_QUALITY = 90;

/** sharp is loaded on the first image a route processes, not at start-up. */
let sharpModule: Promise<typeof import('sharp')> | undefined;
async function loadSharp(): Promise<typeof import('sharp')> {
  sharpModule ??= import('sharp');
  return sharpModule;
}

export async function prepareImage(
  storage: StorageDriver,
  upload: UploadRecord,
  head: ObjectHead,
  settings: ImageSettings,
): Promise<{ rejection: Rejection } | { prepared: PreparedImage }> {
  const dir = await mkdtemp(join(tmpdir(), 'upfront-image-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  let handedOver = false; // the caller disposes of what is prepared; everything else goes here
  try {
    const source = join(dir, 'source');
    const endProblem = await download(storage, upload.key, head, source, upload.contentType);
    if (endProblem) return { rejection: invalid(upload, endProblem) };

    const sharp = (await loadSharp()).default;
    const format = SHARP_FORMATS[upload.contentType]!;
    const input: SharpOptions = { failOn: 'error', limitInputPixels: settings.maxPixels, sequentialRead: true };
    try {
      const metadata = await sharp(source, { ...input, animated: true }).metadata();
      if (metadata.format !== format) return { rejection: invalid(upload, `it decodes as ${metadata.format ?? 'nothing known'}`) };
      // Decodes every pixel (of every frame), failing on the first error: nothing is made of an image that does not.
      await sharp(source, { ...input, animated: true }).stats();
    } catch (error) {
      return { rejection: invalid(upload, decodeProblem(error, settings.maxPixels)) };
    }

    const prepared: PreparedImage = { variants: [], dispose };
    if (settings.stripMetadata) {
      // autoOrient applies the EXIF orientation before the EXIF goes; the ICC profile is colour, not metadata.
      const image = sharp(source, { ...input, animated: true }).autoOrient().keepIccProfile();
      const output = await write(encode(image, format, STRIPPED_QUALITY), join(dir, `stripped.${format}`), upload.contentType);
      prepared.stripped = { ...output, sha256: await sha256Of(output.path) };
    }
    for (const spec of settings.variants) {
      const image = sharp(source, input)
        .autoOrient()
        .resize({ ...(spec.width !== undefined && { width: spec.width }), ...(spec.height !== undefined && { height: spec.height }), fit: spec.fit, withoutEnlargement: true });
      const output = await write(encode(image, spec.format, spec.quality), join(dir, `variant-${spec.name}.${spec.format}`), VARIANT_TYPES[spec.format]);
      prepared.variants.push({ ...output, spec });
    }
    handedOver = true;
    return { prepared };
  } finally {
    if (!handedOver) await dispose();
  }
}

/** Streams the staged object (exactly the verified version) to `path`; answers what is wrong with its end. */
async function download(storage: StorageDriver, key: string, head: ObjectHead, path: string, contentType: string): Promise<string | undefined> {
  const opened = await storage.read('staging', key, head.etag !== undefined ? { ifMatch: head.etag } : {});
  if (!opened) throw new ObjectMissingError(`staging/${key} does not exist`);
  const end = new ImageEnd(contentType);
  const file = await open(path, 'wx');
  const reader = opened.body.getReader();
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      end.push(read.value);
      await file.write(read.value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    await file.close();
  }
  return end.problem();
}

function encode(image: Sharp, format: 'png' | 'jpeg' | 'webp' | 'gif' | 'avif', quality: number): Sharp {
  switch (format) {
    case 'png':
      return image.png();
    case 'gif':
      return image.gif();
    case 'jpeg':
      return image.jpeg({ quality });
    case 'webp':
      return image.webp({ quality });
    case 'avif':
      return image.avif({ quality });
  }
}

async function write(image: Sharp, path: string, contentType: string): Promise<ImageOutput> {
  const info = await image.toFile(path);
  return { path, contentType, size: info.size, width: info.width, height: info.pageHeight ?? info.height };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function decodeProblem(error: unknown, maxPixels: number): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) return `it has more than the ${maxPixels.toLocaleString('en')} pixels this route decodes`;
  // sharp's messages name the decoder's complaint (e.g. "premature end of JPEG image"); the first line says enough.
  return `it does not decode (${message.split('\n')[0]!.slice(0, 200)})`;
}

function invalid(upload: UploadRecord, problem: string): Rejection {
  return { code: 'image_invalid', detail: `The file is not a whole, valid ${upload.contentType} image: ${problem}. Upload the image again, or another one.` };
}
