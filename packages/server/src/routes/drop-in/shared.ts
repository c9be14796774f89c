/**
 * What the drop-in endpoints share: CORS for their paths (the API's origins, and the headers their
 * browser code sends), the user from the bearer token, and create-upload on a contract's route with
 * its own keys and no declared size.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Authenticate, User } from '../../auth/authenticate.ts';
import { UpfrontError } from '../../errors.ts';
import type { Env } from '../../http/context.ts';
import { apiCors } from '../../http/cors.ts';
import type { Services } from '../../services.ts';
import { extensionFor } from '../../uploads/content-types.ts';
import { createUpload, type CreateUploadResult } from '../../uploads/create-upload.ts';
import type { DropInContract } from './config.ts';

export interface DropInDeps {
  services: Services;
  authenticate: Authenticate;
}

/** Request headers the tutorials' browser code sends. */
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Extension';

/** CORS of one path: the API's origins, preflights for `methods` and the headers the tutorials send. */
export function dropInCors(corsOrigins: string[], methods: string[]): MiddlewareHandler<Env> {
  return apiCors(corsOrigins, { methods: methods.join(', '), headers: ALLOWED_HEADERS }).middleware;
}

export const userOf = (c: Context<Env>, { authenticate }: DropInDeps): Promise<User> => authenticate(c.req.header('authorization'));

/**
 * create-upload on the contract's route (its types, maxSize, quotas, rate limit): one PUT or one POST
 * form of at most the route's maxSize, which verification checks (a PUT cannot bind it on S3).
 */
export function createDropInUpload(
  { services }: DropInDeps,
  user: User,
  contract: DropInContract,
  file: { filename: string; contentType: string; strategy: 'put' | 'post'; postFields?: Record<string, string> },
): Promise<CreateUploadResult> {
  const route = services.config.routes.get(contract.route)!;
  return createUpload(services, user.id, {
    route: route.name,
    filename: file.filename,
    contentType: file.contentType,
    size: route.maxSize,
    sizeUnknown: true,
    keyTemplate: contract.keyTemplate,
    strategy: file.strategy,
    ...(file.postFields && { postFields: file.postFields }),
  });
}

/** The route's type of files ending in `.extension` (`jpeg` is `jpg`); type_not_allowed for others. */
export function typeOfExtension({ services }: DropInDeps, contract: DropInContract, extension: string): string {
  const route = services.config.routes.get(contract.route)!;
  const wanted = extension.toLowerCase().replace(/^\./, '').replace(/^jpeg$/, 'jpg');
  const type = route.types.find((candidate) => extensionFor(candidate) === wanted);
  if (type) return type;
  const accepted = route.types.map((candidate) => `.${extensionFor(candidate)}`).join(', ');
  throw new UpfrontError('type_not_allowed', `This endpoint takes ${accepted} files; ${JSON.stringify(extension)} is not one of them.`);
}

/** What a contract's PUT answer needs: the created upload's signed URL. */
export function putUrl({ put }: CreateUploadResult): string {
  if (!put) throw new Error('a drop-in PUT upload was signed as another strategy');
  return put.url;
}
