/**
 * API Gateway and function-URL events as web Requests, and Responses back as their results: REST APIs
 * send payload format 1.0 (headers and query parameters as lists, the path without the stage), HTTP
 * APIs and function URLs format 2.0 (raw path and query, cookies apart, the stage in rawPath unless it
 * is `$default`). Bodies come as text or base64 (isBase64Encoded); answers other than text go back as
 * base64 (a REST API passes those on as bytes only for the binary media types set on it).
 */
import { BufferedRequest } from '../buffered-request.ts';

type Strings = Record<string, string | undefined>;

/** A REST API's proxy event (payload format 1.0). */
export interface RestApiEvent {
  httpMethod: string;
  path: string;
  headers?: Strings | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  queryStringParameters?: Strings | null;
  multiValueQueryStringParameters?: Record<string, string[] | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext: { domainName?: string; stage?: string };
}

/** An HTTP API's or a function URL's event (payload format 2.0). */
export interface HttpApiEvent {
  version: '2.0';
  rawPath: string;
  rawQueryString?: string;
  cookies?: string[];
  headers?: Strings;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { domainName?: string; stage?: string; http: { method: string } };
}

export type HttpEvent = RestApiEvent | HttpApiEvent;

export interface RestApiResult {
  statusCode: number;
  multiValueHeaders: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

export interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function isHttpEvent(event: unknown): event is HttpEvent {
  if (!isObject(event) || !isObject(event.requestContext)) return false;
  if (event.version === '2.0') return isObject(event.requestContext.http) && typeof event.rawPath === 'string';
  return typeof event.httpMethod === 'string' && typeof event.path === 'string';
}

const isV2 = (event: HttpEvent): event is HttpApiEvent => 'version' in event && event.version === '2.0';

export function toRequest(event: HttpEvent): Request {
  const headers = new Headers();
  let method: string;
  let path: string;
  let query: string;
  if (isV2(event)) {
    method = event.requestContext.http.method;
    for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers.set(name, value);
    if (event.cookies?.length) headers.set('cookie', event.cookies.join('; '));
    path = withoutStage(event.rawPath, event.requestContext.stage);
    query = event.rawQueryString ?? '';
  } else {
    method = event.httpMethod;
    // The lists hold every value; the single-value maps only the last of each (API Gateway sends both).
    for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers.set(name, value);
    for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
      if (!values) continue;
      headers.delete(name);
      for (const value of values) headers.append(name, value);
    }
    path = event.path;
    query = restQuery(event);
  }
  const host = headers.get('host') ?? event.requestContext.domainName ?? 'localhost';
  const scheme = headers.get('x-forwarded-proto') ?? 'https';
  const url = `${scheme}://${host}${path}${query ? `?${query}` : ''}`;
  const body = event.body;
  if (body === undefined || body === null || method === 'GET' || method === 'HEAD') return new Request(url, { method, headers });
  // In memory already: no stream to go through (see BufferedRequest).
  return new BufferedRequest(url, method, headers, Buffer.from(body, event.isBase64Encoded ? 'base64' : 'utf8') as Uint8Array<ArrayBuffer>);
}

/** An HTTP API's rawPath names a stage other than `$default` first; the routes do not. */
function withoutStage(rawPath: string, stage: string | undefined): string {
  if (!stage || stage === '$default') return rawPath;
  const prefix = `/${stage}`;
  if (rawPath === prefix) return '/';
  return rawPath.startsWith(`${prefix}/`) ? rawPath.slice(prefix.length) : rawPath;
}

/** REST APIs hand query parameters over decoded: encoded again for the URL. */
function restQuery(event: RestApiEvent): string {
  const query = new URLSearchParams();
  const lists = event.multiValueQueryStringParameters;
  if (lists) {
    for (const [name, values] of Object.entries(lists)) for (const value of values ?? []) query.append(name, value);
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) if (value !== undefined) query.append(name, value);
  }
  return query.toString();
}

/** Bodies of these types go back as text; anything else as base64. */
const TEXT = /^(text\/|application\/([\w.+-]*\+)?(json|xml|javascript|x-www-form-urlencoded)\b)/i;

export async function toResult(event: HttpEvent, response: Response): Promise<RestApiResult | HttpApiResult> {
  const type = response.headers.get('content-type') ?? '';
  const bytes = Buffer.from(await response.arrayBuffer());
  const binary = bytes.byteLength > 0 && !TEXT.test(type);
  const body = binary ? bytes.toString('base64') : bytes.toString('utf8');
  const cookies = response.headers.getSetCookie();
  if (isV2(event)) {
    const headers: Record<string, string> = {};
    for (const [name, value] of response.headers) if (name !== 'set-cookie') headers[name] = value;
    return { statusCode: response.status, headers, ...(cookies.length > 0 && { cookies }), body, isBase64Encoded: binary };
  }
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of response.headers) if (name !== 'set-cookie') multiValueHeaders[name] = [value];
  if (cookies.length > 0) multiValueHeaders['set-cookie'] = cookies;
  return { statusCode: response.status, multiValueHeaders, body, isBase64Encoded: binary };
}
