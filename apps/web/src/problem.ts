import { UpfrontError } from '@upfront/client';

/** An error as the page shows it: the API's stable code and its sentence saying what to do. */
export interface Problem {
  code: string;
  detail: string;
}

export function problemOf(error: unknown): Problem {
  if (error instanceof UpfrontError) return { code: error.code, detail: error.detail };
  if (error instanceof TypeError) return { code: 'network_error', detail: 'Could not reach the server. Check your connection and try again.' };
  return { code: 'unexpected', detail: error instanceof Error ? error.message : String(error) };
}

/** A 401 means the session's token is gone or expired. */
export const isSessionEnd = (error: unknown) => error instanceof UpfrontError && error.code === 'unauthorized';
