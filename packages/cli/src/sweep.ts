/**
 * upfront sweep [--json]: one sweep now (see @upfront/server's sweep), with the server's configuration
 * (upfront.config.json and the environment): what it did, a line per action. For a cron job beside
 * servers that do not sweep themselves (SWEEP_INTERVAL_SECONDS=0), or after a crash. Exit code 1 when a
 * step failed (the rest still ran).
 */
import { parseArgs } from 'node:util';
import { createUpfront, sweep, SWEEP_ACTIONS, type SweepReport } from '@upfront/server';
import { loadCommandConfig } from './load-config.ts';

export async function runSweep(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  // The mode only decides how users sign in, which a sweep does not need.
  const config = loadCommandConfig({ mode: 'dev' });
  const upfront = await createUpfront({ ...config, sweeper: { ...config.sweeper, intervalSeconds: 0 } }, { publicUrl: 'http://localhost' });
  let report: SweepReport;
  try {
    report = await sweep(upfront.services);
  } finally {
    await upfront.close();
  }
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else console.log(formatReport(report));
  return report.counts.failed > 0 ? 1 : 0;
}

function formatReport(report: SweepReport): string {
  const done = SWEEP_ACTIONS.filter((action) => report.counts[action] > 0);
  if (done.length === 0) return `Nothing to sweep (${report.durationMs} ms).`;
  const width = Math.max(...done.map((action) => action.length));
  const lines = done.map((action) => {
    const examples = report.examples[action] ?? [];
    const more = report.counts[action] > examples.length ? ', …' : '';
    return `${action.padEnd(width)}  ${String(report.counts[action]).padStart(5)}  ${examples.join(', ')}${more}`;
  });
  return [...lines, `Swept in ${report.durationMs} ms.`].join('\n');
}
