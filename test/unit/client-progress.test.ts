/**
 * Upload progress as users see it: acknowledged bytes plus what is in flight, never backwards (a part
 * that fails or is paused drops its in-flight bytes, the bar holds still), never beyond the total, and
 * the total only once storage acknowledged every byte.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressTracker } from '../../packages/client/src/progress.ts';
import type { UploadProgress } from '../../packages/client/src/types.ts';

function recorded(total: number) {
  const seen: UploadProgress[] = [];
  return { tracker: progressTracker(total, (progress) => seen.push(progress)), loaded: () => seen.map((progress) => progress.loaded), seen };
}

describe('progress', () => {
  it('starts at 0 and adds up acknowledged and in-flight bytes of parts in parallel', () => {
    const { tracker, loaded, seen } = recorded(100);
    tracker.sending(1, 10);
    tracker.sending(2, 15);
    tracker.settled(1, 40);
    tracker.sending(2, 30);
    tracker.settled(2, 40);
    tracker.sending(3, 10);
    tracker.settled(3, 20);
    assert.deepEqual(loaded(), [0, 10, 25, 55, 70, 80, 90, 100]);
    assert.ok(seen.every((progress) => progress.total === 100));
  });

  it('does not go back when a part fails or is paused, and holds still until the retry passes it', () => {
    const { tracker, loaded } = recorded(100);
    tracker.sending(1, 30);
    tracker.sending(2, 20);
    tracker.settled(2, 0); // failed: its 20 bytes no longer count
    tracker.sending(2, 5);
    tracker.sending(2, 19);
    tracker.sending(2, 25);
    tracker.settled(1, 50);
    tracker.settled(2, 50);
    assert.deepEqual(loaded(), [0, 30, 50, 55, 75, 100]);
  });

  it('shows the total only once every byte is acknowledged', () => {
    const { tracker, loaded } = recorded(10);
    tracker.sending(1, 10);
    assert.equal(loaded().at(-1), 9, 'all sent, no answer yet');
    tracker.settled(1, 10);
    assert.equal(loaded().at(-1), 10);
  });

  it('never reports the same value twice, never decreases, never exceeds the total (random schedules)', () => {
    for (let round = 0; round < 200; round++) {
      const parts = 1 + Math.floor(Math.random() * 6);
      const size = 1000;
      const { tracker, loaded } = recorded(parts * size);
      const acknowledged = new Set<number>();
      while (acknowledged.size < parts) {
        const part = 1 + Math.floor(Math.random() * parts);
        if (acknowledged.has(part)) continue;
        const roll = Math.random();
        if (roll < 0.6) tracker.sending(part, Math.floor(Math.random() * (size + 1)));
        else if (roll < 0.8) tracker.settled(part, 0);
        else {
          tracker.settled(part, size);
          acknowledged.add(part);
        }
      }
      const values = loaded();
      for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!, `round ${round}: ${values}`);
      assert.equal(values.at(-1), parts * size);
      assert.ok(values.slice(0, -1).every((value) => value < parts * size));
    }
  });
});
