/**
 * A route's processors in the config file: `"processors": ["image", "scan"]` runs them in that order
 * between verification and promotion; `"image": {…}` sets the built-in image processor (see README,
 * "Processors"). Names other than `image` are the app's, checked against createUpfront's `processors`.
 */
import type { Visibility } from '../store/types.ts';

/** The types the built-in image processor decodes (and checks the end of: see image-end.ts). */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
export const IMAGE_PROCESSOR = 'image';
const NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const VARIANT_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const FITS = ['cover', 'contain', 'fill', 'inside', 'outside'] as const;
const FORMATS = ['webp', 'jpeg', 'png', 'avif'] as const;
const MAX_DIMENSION = 8192;
const DEFAULT_MAX_PIXELS = 50_000_000;

export type VariantFit = (typeof FITS)[number];
export type VariantFormat = (typeof FORMATS)[number];

/** One smaller copy of an image, stored beside it (`<key>.variants/<name>.<format>`). */
export interface VariantSpec {
  name: string;
  /** Pixels; one of width and height may be left out (the other side follows the aspect ratio). */
  width?: number;
  height?: number;
  /** sharp's fit: `cover` (the default with both sides: cropped to fill them), `inside` (the default with one), … */
  fit: VariantFit;
  format: VariantFormat;
  /** 1 to 100 (default 80); PNG ignores it. */
  quality: number;
}

export interface ImageSettings {
  /** Largest image decoded, width × height; a larger one is rejected `image_invalid` (default 50 megapixels). */
  maxPixels: number;
  /**
   * Stores the image re-encoded without its metadata (EXIF with GPS, XMP, comments; orientation applied,
   * ICC profile kept) instead of the uploaded bytes. Default: on for public routes, off for private ones.
   */
  stripMetadata: boolean;
  variants: VariantSpec[];
}

export interface RouteProcessing {
  processors?: string[];
  image?: ImageSettings;
}

/** A route's `processors` and `image`; throws (through `fail`) a sentence saying what is wrong. */
export function parseRouteProcessing(
  where: string,
  raw: { processors: unknown; image: unknown; types: string[]; visibility: Visibility },
  fail: (message: string) => Error,
): RouteProcessing {
  if (raw.processors === undefined) {
    if (raw.image !== undefined) throw fail(`${where}: "image" settings apply only with "processors": ["image"]`);
    return {};
  }
  const list = typeof raw.processors === 'string' ? raw.processors.split(',').map((name) => name.trim()).filter(Boolean) : raw.processors;
  if (!Array.isArray(list) || !list.every((name): name is string => typeof name === 'string' && NAME.test(name))) {
    throw fail(`${where}: "processors" lists processor names like ["image", "scan"] (lowercase letters, digits, "-" and "_")`);
  }
  const repeated = list.find((name, index) => list.indexOf(name) !== index);
  if (repeated) throw fail(`${where}: "processors" names "${repeated}" twice`);
  if (!list.includes(IMAGE_PROCESSOR)) {
    if (raw.image !== undefined) throw fail(`${where}: "image" settings apply only when "processors" names "image"`);
    return { processors: list };
  }
  const other = raw.types.find((type) => !(IMAGE_TYPES as readonly string[]).includes(type));
  if (other) throw fail(`${where}: the "image" processor decodes ${IMAGE_TYPES.join(', ')} only, not ${other}; take it out of "types" or use a route without "image"`);
  return { processors: list, image: parseImageSettings(`${where}: "image"`, raw.image ?? {}, raw.visibility, fail) };
}

function parseImageSettings(where: string, raw: unknown, visibility: Visibility, fail: (message: string) => Error): ImageSettings {
  if (!isObject(raw)) throw fail(`${where} is an object like {"variants": [{"name": "thumb", "width": 256, "height": 256}]}`);
  onlyKeys(where, raw, ['maxPixels', 'stripMetadata', 'variants'], fail);
  const { maxPixels = DEFAULT_MAX_PIXELS, stripMetadata = visibility === 'public', variants = [] } = raw;
  if (!isWhole(maxPixels, 1, 1_000_000_000)) throw fail(`${where}: "maxPixels" is a whole number of pixels from 1 to 1000000000 (width × height)`);
  if (typeof stripMetadata !== 'boolean') throw fail(`${where}: "stripMetadata" is true or false`);
  if (!Array.isArray(variants)) throw fail(`${where}: "variants" is a list like [{"name": "thumb", "width": 256, "height": 256}]`);
  const specs = variants.map((variant: unknown, index) => parseVariant(`${where}: "variants"[${index}]`, variant, fail));
  const repeated = specs.find((spec, index) => specs.findIndex((other) => other.name === spec.name) !== index);
  if (repeated) throw fail(`${where}: "variants" has two named "${repeated.name}"`);
  return { maxPixels, stripMetadata, variants: specs };
}

function parseVariant(where: string, raw: unknown, fail: (message: string) => Error): VariantSpec {
  if (!isObject(raw)) throw fail(`${where} is like {"name": "thumb", "width": 256, "height": 256, "fit": "cover", "format": "webp"}`);
  onlyKeys(where, raw, ['name', 'width', 'height', 'fit', 'format', 'quality'], fail);
  const { name, width, height, fit = width !== undefined && height !== undefined ? 'cover' : 'inside', format = 'webp', quality = 80 } = raw;
  if (typeof name !== 'string' || !VARIANT_NAME.test(name)) throw fail(`${where}: "name" is lowercase letters, digits, "-" and "_" (at most 32), like "thumb"`);
  for (const [side, value] of [['width', width], ['height', height]] as const) {
    if (value !== undefined && !isWhole(value, 1, MAX_DIMENSION)) throw fail(`${where}: "${side}" is a whole number of pixels from 1 to ${MAX_DIMENSION}`);
  }
  if (width === undefined && height === undefined) throw fail(`${where}: give "width", "height" or both`);
  if (!(FITS as readonly unknown[]).includes(fit)) throw fail(`${where}: "fit" is one of ${FITS.join(', ')}`);
  if (!(FORMATS as readonly unknown[]).includes(format)) throw fail(`${where}: "format" is one of ${FORMATS.join(', ')}`);
  if (!isWhole(quality, 1, 100)) throw fail(`${where}: "quality" is a whole number from 1 to 100`);
  return {
    name,
    ...(width !== undefined && { width: width as number }),
    ...(height !== undefined && { height: height as number }),
    fit: fit as VariantFit,
    format: format as VariantFormat,
    quality: quality as number,
  };
}

function onlyKeys(where: string, raw: Record<string, unknown>, known: string[], fail: (message: string) => Error): void {
  const unknown = Object.keys(raw).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw fail(`${where} takes ${known.map((key) => `"${key}"`).join(', ')}, not ${unknown.map((key) => JSON.stringify(key)).join(', ')}`);
}

function isWhole(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
