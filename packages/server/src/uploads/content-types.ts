/** File extensions for the types Upfront knows; the key's `{ext}` comes from here, never from the filename. */
const extensions: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
  'image/heic': 'heic',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
  'application/x-tar': 'tar',
  'application/gzip': 'gz',
  'application/x-bzip2': 'bz2',
  'application/x-xz': 'xz',
  'application/zstd': 'zst',
  'application/x-7z-compressed': '7z',
  'video/quicktime': 'mov',
  'video/matroska': 'mkv',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'audio/wav': 'wav',
  'audio/flac': 'flac',
};

export function extensionFor(contentType: string): string {
  return extensions[contentType] ?? 'bin';
}

/** `Image/PNG; charset=x` → `image/png`; undefined when it is not a plausible MIME type. */
export function normaliseContentType(value: string): string | undefined {
  const type = value.split(';', 1)[0]!.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(type) ? type : undefined;
}

/** Types a browser would render as a page or run as script: never served inline from a public origin. */
export function isActiveContent(contentType: string): boolean {
  return /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/javascript|application\/javascript|application\/xml|text\/xml)$/.test(
    contentType,
  );
}
