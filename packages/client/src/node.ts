/** `@upfront/client/node`: what only Node (and Bun, Deno) can use. */
export { fileFromPath } from './node-file.ts';
