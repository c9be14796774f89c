/**
 * The drop-in endpoints' settings: each contract is off unless `"dropIn"` in the config file names it
 * (`{"getUrl": {"route": "image"}}`) or its DROP_IN_<CONTRACT>_ROUTE is set; the rest has defaults.
 */
import { ConfigError, type RouteConfig } from '../../config.ts';
import { validateKeyTemplate } from '../../uploads/key-template.ts';

/** One contract: the Upfront route whose rules apply, the path it answers at, the keys it makes. */
export interface DropInContract {
  route: string;
  path: string;
  keyTemplate: string;
}

export interface DropInConfig {
  /** `POST /upload/create` `{original_filename, content_type}`, a PUT, then `POST /upload/finalize` `{upload_key, filename}`. */
  createFinalize?: DropInContract & { finalizePath: string };
  /** `GET /uploads` → `{uploadURL, Key}` for a PUT of `contentType`. */
  getUrl?: DropInContract & { contentType: string };
  /** A request with `x-extension: png` → `{presignedUrl, key}`. */
  extensionHeader?: DropInContract;
  /** `GET /s3-policy-document?filename=…` → a POST policy's fields, flattened. */
  policyDocument?: DropInContract;
}

export type ContractName = keyof DropInConfig;

/** Paths and keys as the tutorials have them; `{uuid}` stays in every key (no two uploads share one). */
const DEFAULTS: Record<ContractName, { path: string; keyTemplate: string }> = {
  createFinalize: { path: '/upload/create', keyTemplate: 'media/{user}/{date}-{slug}-{uuid}.{ext}' },
  getUrl: { path: '/uploads', keyTemplate: '{uuid}.{ext}' },
  extensionHeader: { path: '/presigned-url', keyTemplate: '{uuid}.{ext}' },
  policyDocument: { path: '/s3-policy-document', keyTemplate: 'uploads/{uuid}/{slug}.{ext}' },
};
const DEFAULT_FINALIZE_PATH = '/upload/finalize';
const NAMES = Object.keys(DEFAULTS) as ContractName[];
/** The API's own paths, which no contract may take. */
const RESERVED = /^\/(v1|storage|healthz|readyz|metrics|openapi\.json)(\/|$)/;
const PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

type Env = Record<string, string | undefined>;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** `getUrl` → `DROP_IN_GET_URL_`. */
const envPrefix = (name: ContractName) => `DROP_IN_${name.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}_`;

/**
 * `"dropIn": {"<contract>": {"route", "path", "keyTemplate", …}}`; DROP_IN_<CONTRACT>_ROUTE, _PATH and
 * _KEY_TEMPLATE (and DROP_IN_CREATE_FINALIZE_FINALIZE_PATH, DROP_IN_GET_URL_CONTENT_TYPE) set or override them.
 */
export function parseDropInConfig(raw: unknown, env: Env, routes: ReadonlyMap<string, RouteConfig>, takesPostPolicy: boolean): DropInConfig | undefined {
  if (raw !== undefined && !isObject(raw)) throw new ConfigError('"dropIn" is an object like {"getUrl": {"route": "image"}}');
  const given = raw ?? {};
  const unknown = Object.keys(given).filter((name) => !(NAMES as string[]).includes(name));
  if (unknown.length > 0) throw new ConfigError(`"dropIn" takes ${NAMES.join(', ')}, not ${unknown.map((name) => JSON.stringify(name)).join(', ')}`);
  const config: DropInConfig = {};
  const paths = new Map<string, string>();
  const claim = (path: unknown, where: string): string => {
    if (typeof path !== 'string' || !PATH.test(path) || RESERVED.test(path)) {
      throw new ConfigError(`${where} is a path like /uploads (letters, digits, ".", "_", "~", "-"), outside /v1, /storage and the health paths (got ${JSON.stringify(path)})`);
    }
    const other = paths.get(path);
    if (other) throw new ConfigError(`${where}: ${path} is already ${other}'s`);
    paths.set(path, where);
    return path;
  };
  for (const name of NAMES) {
    const prefix = envPrefix(name);
    const fromFile = given[name];
    if (fromFile !== undefined && !isObject(fromFile)) throw new ConfigError(`"dropIn": "${name}" is an object like {"route": "image"}`);
    const pick = (field: string, envName: string): unknown => env[prefix + envName] || fromFile?.[field];
    const routeName = pick('route', 'ROUTE');
    if (routeName === undefined) continue;
    const where = `"dropIn": "${name}"`;
    const route = typeof routeName === 'string' ? routes.get(routeName) : undefined;
    if (!route) throw new ConfigError(`${where}: "route" (${prefix}ROUTE) names one of the routes: ${[...routes.keys()].join(', ')} (got ${JSON.stringify(routeName)})`);
    const keyTemplate = pick('keyTemplate', 'KEY_TEMPLATE') ?? DEFAULTS[name].keyTemplate;
    const problem = typeof keyTemplate === 'string' ? validateKeyTemplate(keyTemplate) : 'it must be a string';
    if (problem) throw new ConfigError(`${where}: keyTemplate ${JSON.stringify(keyTemplate)}: ${problem}`);
    const contract = { route: route.name, path: claim(pick('path', 'PATH') ?? DEFAULTS[name].path, `${where}: "path"`), keyTemplate: keyTemplate as string };
    if (name === 'createFinalize') {
      config.createFinalize = { ...contract, finalizePath: claim(pick('finalizePath', 'FINALIZE_PATH') ?? DEFAULT_FINALIZE_PATH, `${where}: "finalizePath"`) };
    } else if (name === 'getUrl') {
      const contentType = pick('contentType', 'CONTENT_TYPE') ?? route.types[0];
      if (typeof contentType !== 'string' || !route.types.includes(contentType)) {
        throw new ConfigError(`${where}: "contentType" is one of the "${route.name}" route's types: ${route.types.join(', ')} (got ${JSON.stringify(contentType)})`);
      }
      config.getUrl = { ...contract, contentType };
    } else if (name === 'policyDocument' && !takesPostPolicy) {
      throw new ConfigError(`${where}: this store takes no POST policies (see S3_PROVIDER); use getUrl or extensionHeader instead`);
    } else {
      config[name] = contract;
    }
  }
  return Object.keys(config).length > 0 ? config : undefined;
}
