/**
 * upfront webhooks list [--dead] [--json] | retry <id> | retry --all-dead: the webhook outbox of the
 * configured database (DATABASE_URL, or the data dir's SQLite file, like serve). A running server sends
 * what retry makes pending again within its poll interval.
 */
import { parseArgs } from 'node:util';
import { openStore, type OutboxMessage, type OutboxState } from '@upfront/server';
import { loadCommandConfig } from './load-config.ts';
import { UsageError } from './usage.ts';

const LIST_LIMIT = 200;

export async function runWebhooks(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'list' && action !== 'retry') throw new UsageError('use "upfront webhooks list [--dead] [--json]" or "upfront webhooks retry <id|--all-dead>"');
  const { values, positionals } = parseArgs({
    args: rest,
    options: action === 'list' ? { dead: { type: 'boolean' }, json: { type: 'boolean' } } : { 'all-dead': { type: 'boolean' } },
    allowPositionals: action === 'retry',
    strict: true,
  });
  if (action === 'retry' && (positionals.length === 1) === Boolean(values['all-dead'])) {
    throw new UsageError('upfront webhooks retry takes one message id, or --all-dead');
  }
  // The mode only decides how users sign in, which this command does not need.
  const config = loadCommandConfig({ mode: 'dev' });
  const store = await openStore(config.databaseUrl, { poolSize: 1 });
  try {
    const outbox = store.webhookOutbox;
    if (action === 'list') {
      const states: OutboxState[] = values.dead ? ['dead'] : ['pending', 'dead'];
      print(await outbox.list(states, LIST_LIMIT), Boolean(values.json), values.dead ? 'dead' : 'pending or dead');
      return 0;
    }
    if (values['all-dead']) {
      const count = await outbox.retryAllDead();
      console.log(`${count} dead message${count === 1 ? ' is' : 's are'} pending again.`);
      return 0;
    }
    const id = positionals[0]!;
    const was = await outbox.retry(id);
    if (was === 'dead') console.log(`${id} is pending again, with a fresh count of attempts.`);
    else if (was === 'pending') console.log(`${id} was pending; it is due now.`);
    else {
      console.error(was === 'delivered' ? `upfront: ${id} was delivered already.` : `upfront: there is no webhook message ${id}; see upfront webhooks list.`);
      return 1;
    }
    return 0;
  } finally {
    await store.close();
  }
}

function print(messages: OutboxMessage[], json: boolean, what: string): void {
  if (json) {
    const list = messages.map(({ payload, ...message }) => ({ ...message, event: JSON.parse(payload) as unknown }));
    console.log(JSON.stringify({ messages: list }, null, 2));
    return;
  }
  if (messages.length === 0) {
    console.log(`No ${what} webhook messages.`);
    return;
  }
  const rows = [
    ['ID', 'ROUTE', 'TYPE', 'STATE', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST ERROR'],
    ...messages.map((m) => [m.id, m.route, m.type, m.state, String(m.attempts), m.state === 'pending' ? m.nextAttemptAt.toISOString() : '-', m.lastError ?? '-']),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) console.log(row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
}
