import { UpfrontError } from '../errors.ts';

const MAX_FILENAME_CHARS = 255;
// Control characters, and bidi overrides that make `cod.exe` display as `exe.doc`.
const FORBIDDEN = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;

/**
 * The client's filename is metadata only (keys are generated), kept so downloads get a sensible name.
 * Path components are dropped (`../../etc/passwd` → `passwd`, `C:\x\a.png` → `a.png`); what cannot be
 * represented safely is refused rather than silently mangled.
 */
export function sanitiseFilename(input: string): string {
  if (input.length === 0) {
    throw new UpfrontError('invalid_filename', 'Send the file\'s name as a non-empty string in "filename".');
  }
  if (FORBIDDEN.test(input)) {
    throw new UpfrontError(
      'invalid_filename',
      'The filename contains control characters (such as NUL) or text-direction overrides; rename the file and try again.',
    );
  }
  const name = input.normalize('NFC').split(/[\\/]/).pop()!.trim();
  if (name === '' || name === '.' || name === '..') {
    throw new UpfrontError('invalid_filename', 'The filename has no name part after removing its path; send just the file\'s name.');
  }
  if ([...name].length > MAX_FILENAME_CHARS) {
    throw new UpfrontError(
      'invalid_filename',
      `The filename is longer than ${MAX_FILENAME_CHARS} characters; shorten it and try again.`,
    );
  }
  return name;
}

/** RFC 6266 Content-Disposition with an ASCII fallback and the exact UTF-8 name. */
export function contentDisposition(type: 'inline' | 'attachment', filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
