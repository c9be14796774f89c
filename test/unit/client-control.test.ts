/** Pause, resume and stop of an upload, and the limit on storage requests in flight across uploads. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createControl } from '../../packages/client/src/control.ts';
import { limiter } from '../../packages/client/src/limiter.ts';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('upload control', () => {
  it('a pause cuts requests in flight (their signal aborts), holds new ones until resume, and gives them a fresh signal', async () => {
    const control = createControl();
    const inFlight = control.run;
    await control.ready();
    control.pause();
    assert.ok(inFlight.aborted, 'the request in flight is cut');
    assert.ok(!control.signal.aborted, 'the upload is not stopped');
    let ready = false;
    const waiting = control.ready().then(() => (ready = true));
    await settle();
    assert.equal(ready, false, 'nothing is sent while paused');
    control.resume();
    await waiting;
    assert.ok(!control.run.aborted, 'requests after resume run under a new signal');
  });

  it('stop ends a pause, and everything after it fails with `aborted`', async () => {
    const control = createControl();
    control.pause();
    const waiting = control.ready();
    control.stop();
    await assert.rejects(waiting, { code: 'aborted' });
    await assert.rejects(control.ready(), { code: 'aborted' });
    assert.ok(control.signal.aborted && control.run.aborted);
    control.pause();
    control.resume();
    assert.ok(control.run.aborted, 'a stopped upload cannot be resumed');
  });

  it('the caller\'s signal stops it, also one aborted before the start', async () => {
    const caller = new AbortController();
    const control = createControl(caller.signal);
    caller.abort();
    assert.ok(control.signal.aborted);
    assert.ok(createControl(AbortSignal.abort()).signal.aborted);
  });
});

describe('storage request limiter', () => {
  it('lets `max` hold a place, hands freed places on in order, and never exceeds `max`', async () => {
    const acquire = limiter(2);
    let holding = 0;
    let most = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 6 }, deferred);
    const jobs = gates.map(async (gate, index) => {
      const release = await acquire();
      order.push(index);
      most = Math.max(most, ++holding);
      await gate.promise;
      holding--;
      release();
    });
    await settle();
    assert.deepEqual(order, [0, 1]);
    gates[1]!.resolve();
    await settle();
    assert.deepEqual(order, [0, 1, 2]);
    for (const gate of gates) gate.resolve();
    await Promise.all(jobs);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.equal(most, 2);
    // Every place was given back: two can hold one at once again.
    const [a, b] = await Promise.all([acquire(), acquire()]);
    a();
    b();
  });
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
