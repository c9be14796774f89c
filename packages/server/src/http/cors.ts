/**
 * CORS allowlist: exact origins, or `scheme://host:*` for any port of a host (handy for localhost dev).
 * An origin not on the list gets no CORS headers at all, so the browser blocks the response.
 */
export function originMatcher(allowed: string[]): (origin: string) => boolean {
  const exact = new Set(allowed.filter((o) => !o.endsWith(':*')));
  const anyPort = allowed.filter((o) => o.endsWith(':*')).map((o) => o.slice(0, -1));
  return (origin) =>
    exact.has('*') || exact.has(origin) || anyPort.some((prefix) => origin.startsWith(prefix) && /^\d+$/.test(origin.slice(prefix.length)));
}
