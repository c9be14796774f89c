/** Helpers for the disk driver's tests: what its data dir holds, and the S3 error its endpoint answered. */
import { readdir } from 'node:fs/promises';

/** Every file and directory under `dir`, sorted, for "nothing written" checks. */
export async function diskState(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String).sort();
}

/**
 * The data dir's state once it equals `expected`, or after `seconds` if it never does (the caller's
 * assertion then shows the difference): a request cut by its client ends on the server a moment after
 * the client's socket closes, and its temp file goes then.
 */
export async function settledDiskState(dir: string, expected: string[], seconds = 10): Promise<string[]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const state = await diskState(dir);
    if (JSON.stringify(state) === JSON.stringify(expected) || Date.now() > deadline) return state;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The `<Code>` of an S3 XML error body. */
export const s3CodeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

export async function s3Error(response: Response): Promise<{ status: number; code: string | undefined }> {
  return { status: response.status, code: s3CodeOf(await response.text()) };
}
