/**
 * An nginx configuration (Debian's nginx, 1.22) that serves the public bucket as a caching CDN: GET and
 * HEAD only, Range requests, gzip for text, `X-Content-Type-Options: nosniff`, and every type a browser
 * would run (HTML, SVG, XML, JavaScript) sent as an attachment. It reads the bucket with the secret
 * Referer the bucket policy asks for (S3_CDN_SECRET), so that only it gets through. Cached copies live
 * `maxAge` seconds whatever the bucket's headers say, and browsers are told the same: a deleted or
 * replaced file stops being served within that time (keys are reused: a replaced file is a new version
 * of the same key). It is a snippet for nginx's http block, e.g. /etc/nginx/conf.d/upfront-cdn.conf.
 */

export interface NginxCdnOptions {
  /** The public bucket's URL, ending in `/` (path-style: `http://store:7480/bucket/`). */
  origin: string;
  /** Sent to the bucket as Referer; none when the bucket admits the CDN by its address, or anyone. */
  secret?: string;
  /** nginx's `listen`: a port, or address:port. */
  listen: string;
  serverName: string;
  cacheDir: string;
  /** Seconds a cached copy (and a browser's) is used before the bucket is asked again. */
  maxAge: number;
}

/** Default lifetime: the API's public Cache-Control says the same (uploads/complete-upload.ts). */
export const DEFAULT_MAX_AGE = 3600;

/** Types that run in the reader's browser as this origin (pages, scripts, XML with its stylesheets), and no type at all. */
const ACTIVE = String.raw`(?:|text/html|application/xhtml\+xml|image/svg\+xml|text/xml|text/xsl|application/xml|[a-z]+/[a-z0-9.+-]+\+xml|(?:text|application)/(?:x-)?(?:java|ecma)script)\s*(?:;[^|]*)?`;

export function nginxCdnConfig(options: NginxCdnOptions): string {
  if (options.secret?.includes('$')) throw new Error('the CDN secret must not contain "$" (nginx would read it as a variable)');
  const quoted = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;
  return `# Upfront: a caching CDN in front of the public bucket ${options.origin} (made by \`upfront cdn nginx\`).
# Include it in nginx's http block (e.g. as /etc/nginx/conf.d/upfront-cdn.conf) and set S3_PUBLIC_BASE_URL
# to this server's URL.
proxy_cache_path ${options.cacheDir} levels=1:2 keys_zone=upfront_public:10m max_size=10g inactive=7d use_temp_path=off;

# Content-Disposition: an attachment for every type a browser would run as this origin's page or script
# (kept as the bucket sent it when it already is one, filename included); other types as the bucket sent it.
map "$upstream_http_content_type|$upstream_http_content_disposition" $upfront_disposition {
  "~*^${ACTIVE}\\|(?<upfront_kept>attachment.*)$" $upfront_kept;
  "~*^${ACTIVE}\\|" attachment;
  "~^[^|]*\\|(?<upfront_given>.*)$" $upfront_given;
}

server {
  listen ${options.listen};
  server_name ${options.serverName};

  gzip on;
  gzip_proxied any;
  gzip_vary on;
  gzip_min_length 256;
  gzip_types text/plain text/css text/csv text/javascript application/javascript application/json application/xml text/xml image/svg+xml application/wasm;

  location / {
    # Public files are read, nothing else.
    if ($request_method !~ ^(GET|HEAD)$) {
      add_header Allow "GET, HEAD" always;
      add_header X-Content-Type-Options nosniff always;
      return 405;
    }
    # The bucket gets no query string (cache busters would fill the cache, and RGW answers anonymous
    # response-* overrides malformed) and none of the reader's credentials.
    set $args "";
    proxy_pass ${options.origin};
    proxy_ssl_server_name on;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Authorization "";
    proxy_set_header Cookie "";
    # One cached copy serves every origin: the bucket sees no Origin, and the answer allows any (public files are anyone's).
    proxy_set_header Origin "";
    ${options.secret ? `# The bucket policy lets anonymous reads through only with this Referer (S3_CDN_SECRET): keep it secret.\n    proxy_set_header Referer ${quoted(options.secret)};` : '# No secret: the bucket admits this server by its address (S3_CDN_SOURCE_IPS), or admits anyone.\n    proxy_set_header Referer "";'}

    proxy_cache upfront_public;
    proxy_cache_key $uri;
    # Bounded lifetime, whatever the bucket's Cache-Control says (files promoted long ago said a year).
    proxy_ignore_headers Cache-Control Expires Set-Cookie;
    proxy_cache_valid 200 ${options.maxAge}s;
    proxy_cache_valid 403 404 60s;
    proxy_cache_revalidate on;
    proxy_cache_lock on;
    proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
    proxy_cache_background_update on;
    # Range requests are answered from the cached whole file.
    proxy_force_ranges on;

    proxy_hide_header Cache-Control;
    proxy_hide_header Expires;
    proxy_hide_header Content-Disposition;
    proxy_hide_header Set-Cookie;
    proxy_hide_header Access-Control-Allow-Origin;
    proxy_hide_header x-amz-request-id;
    proxy_hide_header x-amz-id-2;
    proxy_hide_header x-rgw-object-type;
    add_header Cache-Control "public, max-age=${options.maxAge}";
    add_header Content-Disposition $upfront_disposition;
    add_header Access-Control-Allow-Origin "*";
    add_header X-Content-Type-Options nosniff always;
    add_header X-Cache-Status $upstream_cache_status always;
  }
}
`;
}
