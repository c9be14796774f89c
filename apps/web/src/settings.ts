/**
 * What the page learns from its own <meta> tags, so one build serves any deployment: the API's URL
 * (`upfront site deploy --api` fills it in for a page on another origin; empty: this page's origin)
 * and, when set, the OpenID Connect provider to sign in with (else the API's dev sign-in).
 */
function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content.trim() ?? '';
}

export interface OidcSettings {
  issuer: string;
  clientId: string;
}

export interface PageSettings {
  apiUrl: string;
  oidc: OidcSettings | undefined;
}

export function readSettings(): PageSettings {
  const issuer = meta('upfront-oidc-issuer');
  const clientId = meta('upfront-oidc-client-id');
  return {
    apiUrl: (meta('upfront-api') || location.origin).replace(/\/+$/, ''),
    oidc: issuer && clientId ? { issuer, clientId } : undefined,
  };
}
