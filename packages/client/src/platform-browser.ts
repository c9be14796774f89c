/** `#platform` in browsers (and other runtimes without the "node" condition). */
export { createHasher } from './worker-hasher.ts';
export { transfer } from './xhr-transfer.ts';
export { partsOf } from './browser-stream.ts';
