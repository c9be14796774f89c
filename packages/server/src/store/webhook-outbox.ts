/**
 * The webhook outbox: events written in the same transaction as the change they tell of (so an event
 * exists exactly when its change committed), then claimed, sent and marked by the delivery worker
 * (webhooks/worker.ts), and listed or retried by `upfront webhooks`.
 *
 * A claim sets `lease_until`: until then no other claim (of this instance or another) takes the row,
 * and only the holder of that lease may mark its outcome. A worker that dies holding a lease leaves a
 * row that is claimed again once the lease ends, so every event is delivered at least once.
 */
import type { ColumnType, Kysely, Selectable, Updateable } from 'kysely';
import { integer, type Int8, type StoreDatabase, type StoreDialect } from './migrations.ts';

export type WebhookEventType = 'upload.completed' | 'upload.rejected' | 'file.deleted' | 'file.version_restored';
export type OutboxState = 'pending' | 'delivered' | 'dead';

export interface WebhookOutboxTable {
  /** Also the `webhook-id` of every attempt, so receivers can drop duplicates. */
  id: string;
  route: string;
  type: WebhookEventType;
  /** The JSON body, exactly as signed and sent. */
  payload: string;
  state: OutboxState;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Int8;
  lease_until: Int8 | null;
  last_error: string | null;
  created_at: Int8;
  delivered_at: Int8 | null;
}

/** An event to write with the change it tells of (see the `event` options of MetadataStore). */
export interface NewOutboxMessage {
  id: string;
  route: string;
  type: WebhookEventType;
  payload: string;
}

export interface OutboxMessage extends NewOutboxMessage {
  state: OutboxState;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** A message this worker holds until `leaseUntil` (epoch ms), which also names the claim. */
export interface ClaimedMessage extends OutboxMessage {
  leaseUntil: number;
}

export interface WebhookOutbox {
  /** Leases up to `limit` pending messages that are due (soonest first) for `leaseMs`. */
  claim(limit: number, leaseMs: number): Promise<ClaimedMessage[]>;
  /** The receiver took it. False when the lease was lost (another claim took the row meanwhile). */
  delivered(message: ClaimedMessage): Promise<boolean>;
  /** An attempt failed: tried again at `retryAt`, or dead-lettered when that is null. */
  failed(message: ClaimedMessage, error: string, retryAt: Date | null): Promise<boolean>;
  /** Gives the message back unattempted (shutdown): it is due again at once. */
  release(message: ClaimedMessage): Promise<void>;
  /** Messages in these states, newest first. */
  list(states: OutboxState[], limit: number): Promise<OutboxMessage[]>;
  /**
   * A dead message becomes pending with a fresh count of attempts; a pending one becomes due now. The
   * state it had, or undefined when there is no such message.
   */
  retry(id: string): Promise<OutboxState | undefined>;
  /** Every dead message becomes pending again; how many. */
  retryAllDead(): Promise<number>;
  /** Deletes messages delivered before `before` (their receivers have them); how many went. */
  pruneDelivered(before: Date): Promise<number>;
  /** Calls `listener` after each commit of this process that wrote a message (the worker's nudge); answers its unsubscribe. */
  onWritten(listener: () => void): () => void;
}

/** Writes `message` with the transaction `trx` belongs to; due at once. */
export async function insertOutboxMessage(trx: Kysely<StoreDatabase>, message: NewOutboxMessage, now: number): Promise<void> {
  await trx
    .insertInto('webhook_outbox')
    .values({ ...message, state: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, last_error: null, created_at: now, delivered_at: null })
    .execute();
}

/** Longest last_error kept: a receiver's answer can be large. */
const maxErrorLength = 500;

export class KyselyWebhookOutbox implements WebhookOutbox {
  readonly #db: Kysely<StoreDatabase>;
  readonly #dialect: StoreDialect;
  readonly #listeners = new Set<() => void>();

  constructor(db: Kysely<StoreDatabase>, dialect: StoreDialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  /**
   * One UPDATE of the rows its subquery picks: atomic on SQLite (one writer at a time); on PostgreSQL
   * the subquery's FOR UPDATE SKIP LOCKED passes over rows another instance is claiming, and a row
   * claimed since is re-checked against the WHERE (its lease now runs) and left out.
   */
  async claim(limit: number, leaseMs: number): Promise<ClaimedMessage[]> {
    const now = Date.now();
    const due = this.#db
      .selectFrom('webhook_outbox')
      .select('id')
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .orderBy('next_attempt_at')
      .limit(limit)
      .$if(this.#dialect === 'postgres', (query) => query.forUpdate().skipLocked());
    const rows = await this.#db
      .updateTable('webhook_outbox')
      .set({ lease_until: now + leaseMs })
      .where('id', 'in', due)
      .where('state', '=', 'pending')
      .returningAll()
      .execute();
    return rows.map((row) => ({ ...toOutboxMessage(row), leaseUntil: integer(row.lease_until!) }));
  }

  async delivered(message: ClaimedMessage): Promise<boolean> {
    const now = Date.now();
    return this.#settle(message, { state: 'delivered', attempts: message.attempts + 1, delivered_at: now, last_error: null });
  }

  async failed(message: ClaimedMessage, error: string, retryAt: Date | null): Promise<boolean> {
    return this.#settle(message, {
      state: retryAt ? 'pending' : 'dead',
      attempts: message.attempts + 1,
      last_error: error.slice(0, maxErrorLength),
      ...(retryAt && { next_attempt_at: retryAt.getTime() }),
    });
  }

  async release(message: ClaimedMessage): Promise<void> {
    await this.#settle(message, {});
  }

  /** Marks the outcome and ends the lease, if this claim still holds it. */
  async #settle(message: ClaimedMessage, set: Omit<Updateable<WebhookOutboxTable>, 'id' | 'lease_until'>): Promise<boolean> {
    const result = await this.#db
      .updateTable('webhook_outbox')
      .set({ ...set, lease_until: null })
      .where('id', '=', message.id)
      .where('lease_until', '=', message.leaseUntil)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async list(states: OutboxState[], limit: number): Promise<OutboxMessage[]> {
    if (states.length === 0) return [];
    const rows = await this.#db
      .selectFrom('webhook_outbox')
      .selectAll()
      .where('state', 'in', states)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toOutboxMessage);
  }

  async retry(id: string): Promise<OutboxState | undefined> {
    const now = Date.now();
    const dead = await this.#db
      .updateTable('webhook_outbox')
      .set({ state: 'pending', attempts: 0, next_attempt_at: now })
      .where('id', '=', id)
      .where('state', '=', 'dead')
      .executeTakeFirst();
    if (dead.numUpdatedRows > 0n) return 'dead';
    // A pending one keeps its lease: a worker may be sending it right now.
    const pending = await this.#db
      .updateTable('webhook_outbox')
      .set({ next_attempt_at: now })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    if (pending.numUpdatedRows > 0n) return 'pending';
    const row = await this.#db.selectFrom('webhook_outbox').select('state').where('id', '=', id).executeTakeFirst();
    return row?.state;
  }

  async retryAllDead(): Promise<number> {
    const result = await this.#db
      .updateTable('webhook_outbox')
      .set({ state: 'pending', attempts: 0, next_attempt_at: Date.now() })
      .where('state', '=', 'dead')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async pruneDelivered(before: Date): Promise<number> {
    const result = await this.#db.deleteFrom('webhook_outbox').where('state', '=', 'delivered').where('delivered_at', '<', before.getTime()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  onWritten(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The store calls this once a transaction that wrote a message has committed. */
  written(): void {
    for (const listener of this.#listeners) listener();
  }
}

function toOutboxMessage(row: Selectable<WebhookOutboxTable>): OutboxMessage {
  return {
    id: row.id,
    route: row.route,
    type: row.type,
    payload: row.payload,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: new Date(integer(row.next_attempt_at)),
    lastError: row.last_error,
    createdAt: new Date(integer(row.created_at)),
    deliveredAt: row.delivered_at === null ? null : new Date(integer(row.delivered_at)),
  };
}
