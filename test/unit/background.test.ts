import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Background } from '../../packages/server/src/background.ts';

test('settled() waits for every task, including ones started meanwhile; a failure is logged, not thrown', async (t) => {
  const logged = t.mock.method(console, 'error', () => undefined);
  const background = new Background();
  const done: string[] = [];
  background.run('first', async () => {
    await sleep(20);
    done.push('first');
    background.run('second', async () => {
      await sleep(20);
      done.push('second');
    });
  });
  background.run('failing', async () => {
    throw new Error('storage down');
  });
  await background.settled();
  assert.deepEqual(done, ['first', 'second']);
  assert.equal(logged.mock.callCount(), 1);
  assert.match(String(logged.mock.calls[0]!.arguments[0]), /failing failed/);
  await background.settled(); // nothing pending: returns at once
});
