/** Helpers for the disk driver's tests: what its data dir holds, and the S3 error its endpoint answered. */
import { readdir } from 'node:fs/promises';

/** Every file and directory under `dir`, sorted, for "nothing written" checks. */
export async function diskState(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String).sort();
}

/** The `<Code>` of an S3 XML error body. */
export const s3CodeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

export async function s3Error(response: Response): Promise<{ status: number; code: string | undefined }> {
  return { status: response.status, code: s3CodeOf(await response.text()) };
}
