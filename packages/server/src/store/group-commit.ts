/**
 * Group commit: writes that arrive while the event loop is busy are written together, one
 * statement and one commit for all of them, each caller still getting its own result once that
 * commit is durable. A statement and its commit cost more than the row they write (query building,
 * locks, WAL writes on SQLite; a round trip on PostgreSQL), so concurrent create-uploads share that
 * cost instead of paying it one by one.
 */
interface Waiting<Input, Output> {
  input: Input;
  resolve(output: Output): void;
  reject(error: unknown): void;
}

export class GroupCommit<Input, Output> {
  readonly #write: (inputs: Input[]) => Promise<Output[]>;
  readonly #maxBatch: number;
  #pending: Waiting<Input, Output>[] = [];

  /** `write` must return one output per input, in the same order. */
  constructor(write: (inputs: Input[]) => Promise<Output[]>, options: { maxBatch: number }) {
    this.#write = write;
    this.#maxBatch = options.maxBatch;
  }

  add(input: Input): Promise<Output> {
    return new Promise((resolve, reject) => {
      // The first write of a turn schedules the flush after the I/O callbacks already queued, so
      // requests that arrived together are written together.
      if (this.#pending.push({ input, resolve, reject }) === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let start = 0; start < pending.length; start += this.#maxBatch) {
      void this.#writeBatch(pending.slice(start, start + this.#maxBatch));
    }
  }

  async #writeBatch(batch: Waiting<Input, Output>[]): Promise<void> {
    try {
      const outputs = await this.#write(batch.map((entry) => entry.input));
      batch.forEach((entry, i) => entry.resolve(outputs[i]!));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      // The batch was one statement, so nothing of it was written; one bad input must not fail
      // the others: each is retried alone and gets its own answer.
      for (const entry of batch) void this.#writeBatch([entry]);
    }
  }
}
