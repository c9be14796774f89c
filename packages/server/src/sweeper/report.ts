/** What one sweep did: a count per action and a few example keys of each, for logs, metrics and `upfront sweep`. */

export const SWEEP_ACTIONS = [
  /** Pending uploads past their expiry: set `expired`, their staged bytes (and parts) deleted. */
  'expired',
  /** Unfinished uploads whose bytes sat in staging without a complete: completed (a file recorded). */
  'finalized',
  /** Unfinished uploads the sweeper completed whose bytes failed verification. */
  'rejected',
  /** Promotions a crash stopped between copy and record: the copy in the final bucket recorded. */
  'healed',
  /** Staged objects no unfinished upload owns (sent after a complete, an abort, a rejection; or left by a crash). */
  'staged_deleted',
  /** Multipart uploads storage holds that no unfinished upload owns. */
  'multipart_aborted',
  /** Objects in the public or private bucket no record owns, older than the grace period. */
  'orphan_deleted',
  /** Files whose object is gone from storage: marked missing. */
  'marked_missing',
  /** Files marked missing whose object is back. */
  'missing_cleared',
  /** Disk driver: temp files of writes a crash stopped. */
  'temp_removed',
  /** Disk driver: metadata files whose object is gone. */
  'sidecar_removed',
  /** Database rows nobody needs any more: webhook messages delivered over a week ago, rate-limit counts of past windows. */
  'records_pruned',
  /** Steps that failed (the sweep goes on; the next one retries). */
  'failed',
] as const;

export type SweepAction = (typeof SWEEP_ACTIONS)[number];

export interface SweepReport {
  startedAt: string;
  durationMs: number;
  /** Every action, 0 when it did nothing. */
  counts: Record<SweepAction, number>;
  /** Up to EXAMPLES keys (or, for `failed`, messages) per action that did something. */
  examples: Partial<Record<SweepAction, string[]>>;
}

const EXAMPLES = 5;

export class ReportBuilder {
  readonly #started = Date.now();
  readonly #counts = Object.fromEntries(SWEEP_ACTIONS.map((action) => [action, 0])) as Record<SweepAction, number>;
  readonly #examples: Partial<Record<SweepAction, string[]>> = {};
  readonly #onAction: ((action: SweepAction) => void) | undefined;

  constructor(onAction?: (action: SweepAction) => void) {
    this.#onAction = onAction;
  }

  add(action: SweepAction, example: string): void {
    this.#counts[action]++;
    const examples = (this.#examples[action] ??= []);
    if (examples.length < EXAMPLES) examples.push(example);
    this.#onAction?.(action);
  }

  /** A step failed: counted, and its message kept as an example; the sweep goes on. */
  failed(what: string, error: unknown): void {
    this.add('failed', `${what}: ${error instanceof Error ? error.message : String(error)}`);
  }

  build(): SweepReport {
    return {
      startedAt: new Date(this.#started).toISOString(),
      durationMs: Date.now() - this.#started,
      counts: { ...this.#counts },
      examples: structuredClone(this.#examples),
    };
  }
}
