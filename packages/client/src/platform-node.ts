/** `#platform` in Node (and Bun, Deno): picked by the "node" condition of package.json "imports". */
import { transfer as fetchTransfer } from './fetch-transfer.ts';
import { transfer as httpTransfer } from './http-transfer.ts';
import { globalFetch, type Transfer } from './transfer.ts';

export { createHasher } from './node-hasher.ts';
export { partsOf } from './node-stream.ts';

/** Storage requests go through node:http, or through the app's own fetch when it gave one. */
export const transfer: Transfer = (request, options) => (options.fetch === globalFetch ? httpTransfer : fetchTransfer)(request, options);
