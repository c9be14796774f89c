/**
 * Object keys come from the route's template, never from the client: `{user}/{date}-{uuid}.{ext}`.
 * `{uuid}` is required so two uploads can never share a key. `{slug}` is the filename made safe
 * (slugOf): readable, but never unique on its own.
 */
const TOKENS = ['user', 'route', 'date', 'uuid', 'slug', 'ext'] as const;
type Token = (typeof TOKENS)[number];

export function validateKeyTemplate(template: string): string | undefined {
  const used = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
  const unknown = used.filter((t) => !(TOKENS as readonly string[]).includes(t));
  if (unknown.length > 0) return `unknown placeholder {${unknown[0]}}; use ${TOKENS.map((t) => `{${t}}`).join(' ')}`;
  if (!used.includes('uuid')) return 'it must contain {uuid} so every upload gets its own key';
  if (template.startsWith('/') || template.split('/').some((s) => s === '..' || s === '.')) {
    return 'it must be a relative path without "." or ".." segments';
  }
  return undefined;
}

/** Keeps user ids (e.g. `auth0|5f…`, emails) safe as one path segment. */
function keySegment(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 128) || '_';
}

/** `Été 2026 (final).PNG` → `ete-2026-final`: lowercase ASCII letters and digits joined by `-`, at most 64; `file` if none. */
function slugOf(filename: string): string {
  const stem = filename.replace(/\.[A-Za-z0-9]{1,8}$/, '');
  const slug = stem.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 64).replace(/^-+|-+$/g, '');
  return slug || 'file';
}

/** `{slug}` is made from `filename`, and only where the template has it (most do not: it costs each create). */
export function renderKey(template: string, values: Record<Exclude<Token, 'slug'>, string> & { filename?: string }): string {
  return template.replace(/\{(user|route|date|uuid|slug|ext)\}/g, (_, token: Token) =>
    token === 'user' || token === 'route' ? keySegment(values[token]) : token === 'slug' ? slugOf(values.filename ?? '') : values[token],
  );
}
