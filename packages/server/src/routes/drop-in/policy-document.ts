/**
 * `GET /s3-policy-document?filename=photo.png` → a POST policy's fields, flattened: `{upload_url,
 * encoded_policy, key, acl, x_amz_algorithm, x_amz_credential, x_amz_date, x_amz_signature}` (and
 * `content_type`, the form's Content-Type the policy requires). The browser POSTs them with the file as
 * FormData to the bucket; the policy's content-length-range holds the file to the route's maxSize. No
 * finalize call: storage events (or, on the disk driver, its own notification) verify and promote.
 */
import type { Hono } from 'hono';
import { UpfrontError } from '../../errors.ts';
import type { Env } from '../../http/context.ts';
import type { DropInConfig } from './config.ts';
import { createDropInUpload, dropInCors, typeOfExtension, userOf, type DropInDeps } from './shared.ts';

/** The object's ACL the tutorials' forms send; the staging bucket's objects are private anyway. */
const ACL = 'private';

export function policyDocumentRoutes(app: Hono<Env>, deps: DropInDeps, contract: NonNullable<DropInConfig['policyDocument']>): void {
  app.use(contract.path, dropInCors(deps.services.config.corsOrigins, ['GET']));
  app.get(contract.path, async (c) => {
    const user = await userOf(c, deps);
    const filename = c.req.query('filename') ?? '';
    const extension = /\.([A-Za-z0-9]{1,8})$/.exec(filename)?.[1];
    if (!extension) throw new UpfrontError('invalid_request', 'Send the file\'s name with its extension as ?filename=, e.g. ?filename=photo.png.');
    const contentType = typeOfExtension(deps, contract, extension);
    const { post } = await createDropInUpload(deps, user, contract, { filename, contentType, strategy: 'post', postFields: { acl: ACL } });
    if (!post) throw new Error('a drop-in POST upload was signed as another strategy');
    const { fields } = post;
    return c.json({
      upload_url: post.url,
      encoded_policy: fields.Policy,
      key: fields.key,
      acl: ACL,
      content_type: contentType,
      x_amz_algorithm: fields['X-Amz-Algorithm'],
      x_amz_credential: fields['X-Amz-Credential'],
      x_amz_date: fields['X-Amz-Date'],
      x_amz_signature: fields['X-Amz-Signature'],
      ...(fields['X-Amz-Security-Token'] && { x_amz_security_token: fields['X-Amz-Security-Token'] }),
    });
  });
}
