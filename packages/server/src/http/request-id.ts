import { randomUUID } from 'node:crypto';

/** A caller's (or a proxy's) id is kept when it is a plain token; anything else gets a new one, so logs stay clean. */
const GIVEN = /^[\w.:@/+=-]{1,128}$/;

export function requestId(given: string | undefined): string {
  return given !== undefined && GIVEN.test(given) ? given : randomUUID();
}
