/**
 * Work that need not delay an answer, such as removing a staged copy once its file is recorded.
 * Each task's failure is logged, not thrown (what it leaves is a private staging object), and
 * `settled()` waits for all of them: shutdown calls it, and so can a runtime that freezes between
 * requests (e.g. a Lambda adapter, before it returns).
 */
export class Background {
  readonly #pending = new Set<Promise<void>>();

  run(what: string, work: () => Promise<unknown>): void {
    const task: Promise<void> = work()
      .then(
        () => undefined,
        (error: unknown) => console.error(`upfront: ${what} failed`, error),
      )
      .finally(() => this.#pending.delete(task));
    this.#pending.add(task);
  }

  /** Resolves once every task started so far (and any they started) has finished. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }
}
