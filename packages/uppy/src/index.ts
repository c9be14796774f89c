export { default as Upfront } from './plugin.ts';
export type { UpfrontBody, UpfrontOptions } from './plugin.ts';
