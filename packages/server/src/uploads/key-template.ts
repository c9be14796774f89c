/**
 * Object keys come from the route's template, never from the client: `{user}/{date}-{uuid}.{ext}`.
 * `{uuid}` is required so two uploads can never share a key.
 */
const TOKENS = ['user', 'route', 'date', 'uuid', 'ext'] as const;
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

export function renderKey(template: string, values: Record<Token, string>): string {
  return template.replace(/\{(user|route|date|uuid|ext)\}/g, (_, token: Token) =>
    token === 'user' || token === 'route' ? keySegment(values[token]) : values[token],
  );
}
