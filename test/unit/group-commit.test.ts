/** GroupCommit: concurrent writes share one write call; one bad input fails only its own caller. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit } from '../../packages/server/src/store/group-commit.ts';

/** A writer that records each batch it is given and doubles numbers; it refuses a batch holding a negative. */
function recordingWriter() {
  const batches: number[][] = [];
  const write = async (inputs: number[]) => {
    batches.push(inputs);
    if (inputs.some((n) => n < 0)) throw new RangeError(`negative in ${inputs.join(',')}`);
    return inputs.map((n) => n * 2);
  };
  return { batches, write };
}

describe('GroupCommit', () => {
  it('writes what arrives together as one batch, each caller getting its own result', async () => {
    const { batches, write } = recordingWriter();
    const group = new GroupCommit(write, { maxBatch: 64 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => group.add(n)));
    assert.deepEqual(results, [2, 4, 6, 8, 10]);
    assert.deepEqual(batches, [[1, 2, 3, 4, 5]]);
  });

  it('splits a large group into batches of at most maxBatch', async () => {
    const { batches, write } = recordingWriter();
    const group = new GroupCommit(write, { maxBatch: 4 });
    const inputs = Array.from({ length: 10 }, (_, i) => i);
    assert.deepEqual(await Promise.all(inputs.map((n) => group.add(n))), inputs.map((n) => n * 2));
    assert.deepEqual(batches.map((b) => b.length), [4, 4, 2]);
  });

  it('writes later arrivals in a later batch', async () => {
    const { batches, write } = recordingWriter();
    const group = new GroupCommit(write, { maxBatch: 64 });
    assert.equal(await group.add(1), 2);
    assert.equal(await group.add(2), 4);
    assert.deepEqual(batches, [[1], [2]]);
  });

  it('retries each input of a failed batch alone, so only the bad one fails', async () => {
    const { batches, write } = recordingWriter();
    const group = new GroupCommit(write, { maxBatch: 64 });
    const outcomes = await Promise.allSettled([1, -1, 3].map((n) => group.add(n)));
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)),
      [2, 'negative in -1', 6],
    );
    assert.deepEqual(batches, [[1, -1, 3], [1], [-1], [3]]);
  });
});
