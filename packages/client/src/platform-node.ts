/** `#platform` in Node (and Bun, Deno): picked by the "node" condition of package.json "imports". */
export { createHasher } from './node-hasher.ts';
export { transfer } from './fetch-transfer.ts';
export { partsOf } from './node-stream.ts';
