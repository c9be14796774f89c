/**
 * The page of test/browser/uppy.test.ts, bundled with esbuild: an Uppy app (core, Dashboard, and Uppy's
 * S3 uploader inside @upfront/uppy) that uploads through the Upfront API named in its query string.
 */
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import Uppy, { type Meta } from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import { Upfront, type UpfrontBody } from '@upfront/uppy';

const query = new URLSearchParams(location.search);
let tokenCalls = 0;
const errors: { name: string | undefined; code: unknown; message: string }[] = [];

const uppy = new Uppy<Meta, UpfrontBody>()
  .use(Dashboard, { inline: true, target: '#dashboard', proudlyDisplayPoweredByUppy: false })
  .use(Upfront, {
    endpoint: query.get('endpoint')!,
    route: query.get('route')!,
    token: () => {
      tokenCalls++;
      return query.get('token')!;
    },
  });

uppy.on('upload-error', (file, error) => errors.push({ name: file?.name, code: (error as { code?: unknown }).code, message: error.message }));
uppy.on('complete', (result) => {
  const describe = (file: (typeof result.successful & {})[number]) => ({ name: file.name, error: file.error ?? null, stored: file.response?.body ?? null, uploadURL: file.uploadURL ?? null });
  Object.assign(window, { uppyResult: { successful: (result.successful ?? []).map(describe), failed: (result.failed ?? []).map(describe) } });
});

Object.assign(window, { uppy, uppyErrors: errors, tokenCalls: () => tokenCalls });
