/**
 * The standalone bundle, dist/upfront-uploader.js (scripts/build-uploader.ts): the client, the queue and
 * <upfront-uploader>, defined on load, for a page with one script tag. The hashing worker is inside
 * too, started from a blob: URL, so the bundle works from any origin (a worker script must otherwise
 * come from the page's own); a page whose CSP forbids blob: workers sets the worker-url attribute.
 */
import { defineUploader, UpfrontUploaderElement } from './uploader-element.ts';

/** hash-worker.ts, bundled: put in by the build. */
declare const UPFRONT_HASH_WORKER_SOURCE: string;

UpfrontUploaderElement.defaultWorkerUrl = URL.createObjectURL(new Blob([UPFRONT_HASH_WORKER_SOURCE], { type: 'text/javascript' }));
defineUploader();
