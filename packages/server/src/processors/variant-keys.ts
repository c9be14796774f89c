/**
 * Where a file's variants are stored: beside it, in its bucket, under `<file key>.variants/`
 * (`u/2026-01-02-…png.variants/thumb.webp`): the file's key names them, and the sweeper counts them as the
 * file's (sweeper/ownership.ts).
 */
import type { VariantFormat } from './config.ts';

const FOLDER = '.variants/';
const EXTENSIONS: Record<VariantFormat, string> = { webp: 'webp', jpeg: 'jpg', png: 'png', avif: 'avif' };
export const VARIANT_TYPES: Record<VariantFormat, string> = { webp: 'image/webp', jpeg: 'image/jpeg', png: 'image/png', avif: 'image/avif' };

export function variantKey(fileKey: string, name: string, format: VariantFormat): string {
  return `${fileKey}${FOLDER}${name}.${EXTENSIONS[format]}`;
}

/** A variant's download name: `photo.png` and `….variants/thumb.webp` → `photo-thumb.webp`. */
export function variantFilename(filename: string, key: string): string {
  const dot = filename.lastIndexOf('.');
  return `${dot > 0 ? filename.slice(0, dot) : filename}-${key.slice(key.lastIndexOf('/') + 1)}`;
}
