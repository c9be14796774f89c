/**
 * Route names typed by the app's Upfront config. Register it once, and a misspelled route does not compile:
 *
 *   declare module '@upfront/react' {
 *     interface Register { config: typeof import('./upfront.config.json') }
 *   }
 *
 * or give it per call: `useUploads<typeof config>({ route: 'image' })`. Without either, any string goes.
 */

// Empty until an app augments it (declaration merging needs an interface).
export interface Register {}

/** The registered config, or one that allows every route name. */
export type RegisteredConfig = Register extends { config: infer C } ? C : { routes: Record<string, unknown> };

/** The route names of a config (`keyof config.routes`). */
export type RouteOf<C> = C extends { routes: infer R } ? Extract<keyof R, string> : string;
