/**
 * A multipart upload: `partConcurrency` parts in flight, taken in file order. Each part is hashed first
 * (its MD5 is signed into its URL), skipped when storage already holds it with that MD5 (resume), and
 * signed in batches a little ahead of sending. A Blob's parts are prepared (sliced, hashed, compared)
 * one signing window ahead of the senders, not all at once, so hashing never runs far ahead of sending
 * (nor goes on through a pause). A stream is read one part per free sender, so only the parts in
 * flight are held.
 */
import type { CompleteUploadRequest, SignedParts, StoredPart } from './api-types.ts';
import type { UploadContext } from './context.ts';
import type { Hasher } from './hashing.ts';
import { holds } from './parts.ts';
import { sendToStorage } from './sending.ts';

export interface Layout {
  partSize: number;
  partCount: number;
}

interface Part {
  partNumber: number;
  body: Blob;
  /** Whether it must be sent: resolves once it is hashed and compared with what storage holds. */
  due: Promise<boolean>;
}

export async function sendParts(
  ctx: UploadContext,
  { partSize, partCount }: Layout,
  storedParts: StoredPart[] = [],
  source: Blob | AsyncIterable<Blob>,
  hasher: Hasher | undefined,
): Promise<CompleteUploadRequest | undefined> {
  const stored = new Map(storedParts.map((part) => [part.partNumber, part]));
  const md5s: string[] = [];
  // Up to 4 parts per sender are signed in one call (at most 100).
  const window = Math.min(100, 4 * ctx.settings.partConcurrency);
  const signer = partSigner(ctx, md5s, window);
  let count = 0;
  // A part is due unless storage holds it already (compared once its MD5 is known); a due part may be signed ahead.
  const prepare = (body: Blob): Part => {
    const partNumber = ++count;
    const md5 = hasher?.part(body);
    const due = (async () => {
      const digest = await md5;
      if (digest) md5s[partNumber - 1] = digest;
      const due = !holds(stored.get(partNumber), body.size, digest);
      if (due) signer.offer(partNumber);
      return due;
    })();
    due.catch(() => undefined); // awaited by a sender, unless the upload ends first
    return { partNumber, body, due };
  };
  const bodies = source instanceof Blob ? slices(source, partSize, partCount) : source[Symbol.asyncIterator]();
  const next = readAhead(bodies, prepare, source instanceof Blob ? window : 0);

  const sender = async () => {
    for (let part; (part = await next()); ) {
      const { partNumber, body, due } = part;
      if (await due) await sendToStorage(ctx, partNumber, body, (again) => signer.sign(partNumber, again), true);
      else ctx.progress.settled(partNumber, body.size);
    }
  };
  try {
    await Promise.all(Array.from({ length: ctx.settings.partConcurrency }, sender));
  } catch (error) {
    ctx.control.stop(); // the other senders stop too
    throw error;
  }
  if (!hasher) return undefined;
  return { parts: md5s.map((md5, index) => ({ partNumber: index + 1, md5 })), sha256: await hasher.finish() };
}

function* slices(file: Blob, partSize: number, partCount: number): Iterator<Blob> {
  for (let index = 0; index < partCount; index++) yield file.slice(index * partSize, (index + 1) * partSize);
}

/** Takes parts in order, with `ahead` more prepared beyond the ones taken (0: each is prepared when taken). */
function readAhead(bodies: Iterator<Blob> | AsyncIterator<Blob>, prepare: (body: Blob) => Part, ahead: number): () => Promise<Part | undefined> {
  const prepared: Promise<Part | undefined>[] = [];
  return () => {
    while (prepared.length <= ahead) {
      const part = Promise.resolve(bodies.next()).then((read) => (read.done ? undefined : prepare(read.value)));
      part.catch(() => undefined); // a stream that fails is reported to the sender that takes that part
      prepared.push(part);
    }
    return prepared.shift()!;
  };
}

/**
 * Signs parts in batches: a part asked for brings along the next parts that are ready (hashed, due),
 * up to `batchSize`. A part signed again after a failure goes alone.
 */
function partSigner(ctx: UploadContext, md5s: string[], batchSize: number) {
  const ready = new Set<number>();
  const ahead = new Map<number, Promise<SignedParts['parts'][number]>>();
  return {
    offer: (partNumber: number) => ready.add(partNumber),
    sign(partNumber: number, again: boolean) {
      const early = ahead.get(partNumber);
      ahead.delete(partNumber);
      ready.delete(partNumber);
      if (early) return early;
      const batch = again ? [partNumber] : [partNumber, ...[...ready].slice(0, batchSize - 1)];
      const answer = ctx.api<SignedParts>('POST', `${ctx.path}/parts`, { parts: batch.map((n) => ({ partNumber: n, md5: md5s[n - 1] })) }, ctx.control.signal);
      const pick = (n: number) => answer.then(({ parts }) => parts.find((part) => part.partNumber === n)!);
      for (const n of batch.slice(1)) {
        ready.delete(n);
        const signed = pick(n);
        signed.catch(() => undefined); // taken later, or never if the upload ends first
        ahead.set(n, signed);
      }
      return pick(partNumber);
    },
  };
}
