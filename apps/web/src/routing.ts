import type { UploadRoute } from '@upfront/client';

/**
 * Sorts dropped files by the route that takes their type (the first that lists it), so one drop can
 * mix images and documents; files no route takes are set aside, to be explained instead of sent.
 * The type is the browser's guess from the name: the server checks the bytes at complete.
 */
export function routeFiles<T extends Blob>(files: readonly T[], routes: readonly UploadRoute[]): { byRoute: Map<string, T[]>; unroutable: T[] } {
  const byRoute = new Map<string, T[]>();
  const unroutable: T[] = [];
  for (const file of files) {
    const route = routes.find((candidate) => candidate.types.includes(file.type));
    if (!route) unroutable.push(file);
    else byRoute.set(route.name, [...(byRoute.get(route.name) ?? []), file]);
  }
  return { byRoute, unroutable };
}

/** "PNG, JPEG or PDF": the types the server takes, short. */
export function acceptedTypes(routes: readonly UploadRoute[]): string {
  const names = [...new Set(routes.flatMap((route) => route.types.map((type) => type.replace(/^[a-z]+\//, '').toUpperCase())))];
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? 'nothing');
}
