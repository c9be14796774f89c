/**
 * Delivers the webhook outbox: claims due messages (a lease, so instances never send one at the same
 * time), POSTs each to its route's webhook signed to the Standard Webhooks spec, and marks the outcome.
 * A 2xx answer delivers; anything else is tried again after an exponential backoff with jitter, and
 * dead-lettered after `maxAttempts` (`upfront webhooks retry` revives it). Every bit of state is in the
 * database, so retries survive restarts; a message whose sender died is claimed again when its lease ends.
 *
 * It polls every `pollIntervalMs` and at once when this process commits an event. Its timers do not keep
 * the process alive, and its failures are logged, never thrown into requests.
 */
import { Webhook } from 'standardwebhooks';
import type { RouteConfig } from '../config.ts';
import type { Logger } from '../http/logging.ts';
import type { UpfrontMetrics } from '../http/metrics.ts';
import type { ClaimedMessage, WebhookOutbox } from '../store/webhook-outbox.ts';
import type { RouteWebhook, WebhookDeliveryConfig } from './config.ts';

/** Messages claimed at once; a full batch is followed by another at once. */
const BATCH = 16;
/**
 * How long a claim holds its messages: twice the attempt's timeout and then some, so a slow answer never
 * lets another instance send too; a message whose sender died waits this long before it is sent again.
 */
const leaseMs = (timeoutMs: number) => 2 * timeoutMs + 5000;

export interface WebhookDeliveryOptions {
  outbox: WebhookOutbox;
  routes: ReadonlyMap<string, RouteConfig>;
  settings: WebhookDeliveryConfig;
  metrics: UpfrontMetrics;
  log: Logger;
  /** false: never polls nor sends on its own; flush() delivers what is due (a runtime that freezes between requests). Default true. */
  timers?: boolean;
}

export interface WebhookDelivery {
  /** Looks for due messages now (e.g. after a commit that wrote one). */
  nudge(): void;
  /**
   * Delivers the messages due now and resolves once their attempts are over; without `everything`, only
   * when this process wrote one since the last flush (with timers, the worker sends them itself).
   */
  flush(everything?: boolean): Promise<void>;
  /** Stops polling; attempts in flight are cut off and their messages given back, unattempted. */
  stop(): Promise<void>;
}

export function startWebhookDelivery({ outbox, routes, settings, metrics, log, timers = true }: WebhookDeliveryOptions): WebhookDelivery {
  const shutdown = new AbortController();
  const signers = new Map<string, Webhook>();
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let nudged = false;

  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (shutdown.signal.aborted || !timers) return;
    timer = setTimeout(poll, ms);
    timer.unref();
  };

  function poll(): void {
    if (shutdown.signal.aborted) return;
    if (polling) {
      nudged = true; // look again once this round ends: the new message may be past its claim
      return;
    }
    clearTimeout(timer);
    polling = drain()
      .catch((error: unknown) => log.error({ err: error }, 'webhooks: reading the outbox failed; trying again'))
      .finally(() => {
        polling = undefined;
        const again = nudged;
        nudged = false;
        schedule(again ? 0 : settings.pollIntervalMs);
      });
  }

  async function drain(): Promise<void> {
    for (;;) {
      const claimed = await outbox.claim(BATCH, leaseMs(settings.timeoutMs));
      await Promise.all(claimed.map(deliver));
      if (claimed.length < BATCH || shutdown.signal.aborted) return;
    }
  }

  async function deliver(message: ClaimedMessage): Promise<void> {
    try {
      const webhook = routes.get(message.route)?.webhook;
      const error = webhook ? await attempt(webhook, message) : `route "${message.route}" has no webhook configured`;
      if (error === undefined) {
        if (await outbox.delivered(message)) metrics.webhookDeliveries.inc({ route: message.route, outcome: 'delivered' });
        return;
      }
      if (shutdown.signal.aborted) {
        await outbox.release(message);
        return;
      }
      const attempts = message.attempts + 1;
      const dead = attempts >= settings.maxAttempts;
      const retryAt = dead ? null : new Date(Date.now() + backoff(attempts));
      if (!(await outbox.failed(message, error, retryAt))) return;
      metrics.webhookDeliveries.inc({ route: message.route, outcome: dead ? 'dead' : 'failed' });
      const fields = { webhook: message.id, type: message.type, route: message.route, attempt: attempts, error };
      if (dead) log.error(fields, 'webhooks: delivery failed; dead-lettered (upfront webhooks retry sends it again)');
      else log.warn({ ...fields, retryAt: retryAt!.toISOString() }, 'webhooks: delivery failed; trying again later');
    } catch (error) {
      // The lease runs out and the message is claimed again.
      log.error({ err: error, webhook: message.id }, 'webhooks: recording a delivery failed');
    }
  }

  /** One POST; undefined when the receiver took it, else what went wrong (never the secret). */
  async function attempt(webhook: RouteWebhook, message: ClaimedMessage): Promise<string | undefined> {
    let signer = signers.get(webhook.secret);
    if (!signer) signers.set(webhook.secret, (signer = new Webhook(webhook.secret)));
    const sentAt = new Date();
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Upfront-Webhooks',
          'webhook-id': message.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signer.sign(message.id, sentAt, message.payload),
        },
        body: message.payload,
        // A redirect is a misconfigured URL, not a delivery: the signature was for this receiver.
        redirect: 'manual',
        signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(settings.timeoutMs)]),
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 300 ? undefined : `the receiver answered HTTP ${response.status}`;
    } catch (error) {
      return reason(error, settings.timeoutMs);
    }
  }

  /** Doubling from backoffBaseMs up to backoffMaxMs, the second half of each wait random (so retries spread). */
  function backoff(attempts: number): number {
    const ceiling = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.min(attempts - 1, 40));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  let written = false;
  const unsubscribe = outbox.onWritten(timers ? poll : () => void (written = true));
  schedule(0);
  return {
    nudge: poll,
    async flush(everything = false) {
      if (!everything && !written) return;
      written = false;
      poll();
      while (polling) await polling;
    },
    async stop() {
      unsubscribe();
      shutdown.abort();
      clearTimeout(timer);
      await polling;
    },
  };
}

/** Why a fetch failed, in a sentence: a timeout, or the network's reason (fetch hides it in `cause`). */
function reason(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `the receiver did not answer within ${timeoutMs} ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown }).code;
  const text = cause instanceof Error ? cause.message : String(cause);
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
}
