/**
 * A real webhook receiver (node:http) that checks every request the way an app would, with
 * standardwebhooks' `verify`, and answers what the test tells it to: e.g. 500 to the first three
 * attempts of each message, or 503 until it is told otherwise.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

export interface WebhookEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export interface Delivery {
  id: string;
  timestamp: number;
  event: WebhookEvent;
  /** The status this receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  secret: string;
  /** Every request, in order of arrival (the ones refused too). */
  readonly requests: Delivery[];
  /** Requests whose signature did not verify (answered 401): must stay zero. */
  readonly forged: string[];
  /** Decides each answer; given how many requests this message id had before this one. */
  respond: (previousAttempts: number, id: string) => number | Promise<number>;
  /** The accepted deliveries (2xx), each message id once, in order of first acceptance. */
  accepted(): Delivery[];
  /** Waits until `done(accepted())` holds; fails after a generous limit, naming `what`. */
  until(what: string, done: (accepted: Delivery[]) => boolean): Promise<Delivery[]>;
  /** Starts listening (again), on the same port. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** A receiver on `port`, not yet listening: `start()` it (a test may start it later, to be down first). */
export function webhookReceiver(port: number, secret = newWebhookSecret()): WebhookReceiver {
  const verifier = new Webhook(secret);
  const requests: Delivery[] = [];
  const forged: string[] = [];
  let server: Server | undefined;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    secret,
    requests,
    forged,
    respond: () => 200,
    accepted() {
      const seen = new Set<string>();
      return requests.filter((delivery) => delivery.status >= 200 && delivery.status < 300 && !seen.has(delivery.id) && seen.add(delivery.id));
    },
    async until(what, done) {
      const deadline = Date.now() + 60_000;
      while (!done(receiver.accepted())) {
        if (Date.now() > deadline) throw new Error(`webhook receiver: still waiting for ${what}; accepted ${JSON.stringify(receiver.accepted().map((d) => d.event.type))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return receiver.accepted();
    },
    async start() {
      server = createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const body = Buffer.concat(chunks).toString('utf8');
        let event: WebhookEvent;
        try {
          event = verifier.verify(body, headersOf(req.headers)) as WebhookEvent;
        } catch (error) {
          forged.push(`${req.headers['webhook-id']}: ${(error as Error).message}`);
          res.writeHead(401).end();
          return;
        }
        const id = String(req.headers['webhook-id']);
        const delivery = { id, timestamp: Number(req.headers['webhook-timestamp']), event, status: 0 };
        const previous = requests.filter((other) => other.id === id).length;
        requests.push(delivery);
        delivery.status = await receiver.respond(previous, id);
        res.writeHead(delivery.status).end();
      });
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    async stop() {
      if (!server?.listening) return;
      server.closeAllConnections();
      await new Promise((resolve) => server!.close(resolve));
    },
  };
  return receiver;
}

function headersOf(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value]] : [])));
}
