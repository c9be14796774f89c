/** The sweeper's settings: defaults, the config file, SWEEP_* variables over it, and one-line errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../packages/server/src/config.ts';
import { DEFAULT_SWEEPER, parseSweeperConfig } from '../../packages/server/src/sweeper/config.ts';

describe('sweeper config', () => {
  it('defaults: every 5 minutes, a day of grace, 5 minutes to settle; no interval under the test runner, whatever env the config is read from', () => {
    assert.deepEqual(DEFAULT_SWEEPER, { intervalSeconds: 300, graceSeconds: 86_400, settleSeconds: 300 });
    assert.ok(process.env.NODE_TEST_CONTEXT, 'this runs under node\'s test runner');
    assert.deepEqual(parseSweeperConfig({}, {}), { ...DEFAULT_SWEEPER, intervalSeconds: 0 });
    assert.equal(parseSweeperConfig({ intervalSeconds: 60 }, {}).intervalSeconds, 60);
    assert.equal(parseSweeperConfig({}, { SWEEP_INTERVAL_SECONDS: '30' }).intervalSeconds, 30);
  });

  it('takes the file, and the environment over it', () => {
    assert.deepEqual(parseSweeperConfig({ intervalSeconds: 0, graceSeconds: 3600 }, { SWEEP_GRACE_SECONDS: '60', SWEEP_SETTLE_SECONDS: '0' }), {
      intervalSeconds: 0,
      graceSeconds: 60,
      settleSeconds: 0,
    });
  });

  it('refuses what is not whole seconds, and unknown fields, naming them', () => {
    assert.throws(() => parseSweeperConfig({}, { SWEEP_INTERVAL_SECONDS: 'often' }), (error: Error) => error instanceof ConfigError && /SWEEP_INTERVAL_SECONDS/.test(error.message));
    assert.throws(() => parseSweeperConfig({ graceSeconds: -1 }, {}), /"sweeper": "graceSeconds" must be a whole number of seconds/);
    assert.throws(() => parseSweeperConfig({ every: 5 }, {}), /not "every"/);
    assert.throws(() => parseSweeperConfig([], {}), /"sweeper" must be an object/);
  });
});
