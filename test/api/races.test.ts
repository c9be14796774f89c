/**
 * Races are bad input too: many completes and aborts of one upload fired at once, round after round,
 * on both storage drivers (disk, Ceph RGW) and both databases (SQLite, PostgreSQL). Every request
 * gets a correct answer and never a 5xx: the completes that win all return the same file, the others
 * 409 upload_aborted where an abort won; aborts answer 204, or 409 upload_completed where a complete
 * won; never both a file and a successful abort. Afterwards storage and records agree with the answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresSchema } from '../support/postgres.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';

const ROUNDS = 8;
const REQUESTS = 20;
const png = makePng({ width: 8, height: 8, minBytes: 6000 });

const setups: { driver: Driver; database: 'sqlite' | 'postgres' }[] = [
  { driver: 'disk', database: 'sqlite' },
  { driver: 's3', database: 'sqlite' },
  { driver: 'disk', database: 'postgres' },
  { driver: 's3', database: 'postgres' },
];

interface Answer {
  kind: 'complete' | 'abort';
  status: number;
  code?: string;
  fileId?: string;
}

for (const { driver, database } of setups) {
  describe(`concurrent completes and aborts on ${driver} with ${database}`, () => {
    let server: TestServer;
    let pg: Awaited<ReturnType<typeof postgresSchema>> | undefined;
    let token: string;

    before(async () => {
      if (database === 'postgres') pg = await postgresSchema();
      server = await startTestServer({
        driver,
        routes: { image: { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy: 'put' } },
        ...(pg && { env: { DATABASE_URL: pg.url } }),
      });
      token = await server.token('racer');
    });
    after(async () => {
      await server?.close();
      await pg?.drop();
    });

    async function stagedUpload(): Promise<CreatedUpload> {
      const res = await server.api('/v1/uploads', { token, json: { route: 'image', filename: 'race.png', contentType: 'image/png', size: png.length } });
      assert.equal(res.status, 201, await res.clone().text());
      const upload = (await res.json()) as CreatedUpload;
      assert.ok((await sendToStorage(upload, png, 'image/png')).ok);
      return upload;
    }

    async function send(id: string, kind: Answer['kind']): Promise<Answer> {
      const res = await server.api(kind === 'complete' ? `/v1/uploads/${id}/complete` : `/v1/uploads/${id}`, {
        method: kind === 'complete' ? 'POST' : 'DELETE',
        token,
      });
      const text = await res.text();
      const body = text ? (JSON.parse(text) as { code?: string; id?: string }) : {};
      return { kind, status: res.status, ...(body.code && { code: body.code }), ...(res.status === 200 && body.id && { fileId: body.id }) };
    }

    /** Sends all at once; aborts wait `abortDelay` ms (0: all together), or for the first answer ('after-first'). */
    async function fire(id: string, kinds: Answer['kind'][], abortDelay: number | 'after-first' = 0): Promise<Answer[]> {
      const answers: Promise<Answer>[] = kinds.map((kind) => (kind === 'complete' || abortDelay === 0 ? send(id, kind) : Promise.resolve(undefined!)));
      const first = Promise.race(answers.filter((_, i) => kinds[i] === 'complete'));
      for (const [i, kind] of kinds.entries()) {
        if (kind === 'complete' || abortDelay === 0) continue;
        answers[i] = (abortDelay === 'after-first' ? first : sleep(abortDelay)).then(() => send(id, kind));
      }
      return Promise.all(answers);
    }

    /** Every answer is one of the correct ones, and they agree with each other and with storage. */
    async function assertConsistent(upload: CreatedUpload, answers: Answer[]): Promise<'ready' | 'aborted'> {
      const summary = JSON.stringify(answers.map((a) => `${a.kind}:${a.status}${a.code ? `:${a.code}` : ''}`));
      for (const answer of answers) {
        assert.ok(answer.status < 500, `no 5xx: ${summary}`);
        if (answer.kind === 'complete') {
          assert.ok(answer.status === 200 || (answer.status === 409 && answer.code === 'upload_aborted'), `complete: ${summary}`);
        } else {
          assert.ok(answer.status === 204 || (answer.status === 409 && answer.code === 'upload_completed'), `abort: ${summary}`);
        }
      }
      const files = new Set(answers.filter((a) => a.status === 200).map((a) => a.fileId));
      const aborted = answers.some((a) => a.kind === 'abort' && a.status === 204);
      assert.ok(files.size <= 1, `one file for every winning complete: ${summary}`);
      assert.ok(!(files.size === 1 && aborted), `never both a file and a successful abort: ${summary}`);

      const state = ((await (await server.api(`/v1/uploads/${upload.id}`, { token })).json()) as { state: string; fileId: string | null });
      const { storage, background } = server.upfront.services;
      await background.settled(); // a recorded file's staged copy goes after the answer
      assert.equal(await storage.head('staging', upload.key), null, 'nothing left in staging');
      if (files.size === 1) {
        assert.equal(state.state, 'ready');
        assert.equal(state.fileId, [...files][0]);
        assert.equal((await storage.head('public', upload.key))?.size, png.length, 'the file is in the public bucket');
        return 'ready';
      }
      assert.equal(state.state, 'aborted', summary);
      assert.equal(await storage.head('public', upload.key), null, 'an aborted upload leaves nothing public');
      return 'aborted';
    }

    it(`${ROUNDS} rounds of ${REQUESTS} mixed completes and aborts`, async () => {
      // An abort is one compare-and-set, a complete reads storage first: sent together, aborts win. So
      // the aborts are sent later and later, across the time one complete takes, to land mid-complete;
      // the last round sends them once a complete has answered, so both outcomes are seen.
      const calibration = await stagedUpload();
      const started = performance.now();
      assert.equal((await send(calibration.id, 'complete')).status, 200);
      const completeMs = performance.now() - started;
      const outcomes: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const upload = await stagedUpload();
        const kinds = Array.from({ length: REQUESTS }, (_, i): Answer['kind'] => ((i + round) % 4 === 0 ? 'abort' : 'complete'));
        const delay = round === ROUNDS - 1 ? 'after-first' : (round / (ROUNDS - 2)) * completeMs;
        outcomes.push(await assertConsistent(upload, await fire(upload.id, kinds, delay)));
      }
      assert.equal(outcomes[0], 'aborted', 'aborts sent with the completes win');
      assert.equal(outcomes.at(-1), 'ready', 'aborts sent after a complete answered lose');
    });

    it(`${ROUNDS} rounds of ${REQUESTS} concurrent completes: one file for all`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const upload = await stagedUpload();
        const answers = await fire(upload.id, Array.from({ length: REQUESTS }, () => 'complete'));
        assert.equal(await assertConsistent(upload, answers), 'ready');
        assert.ok(answers.every((a) => a.status === 200));
      }
    });

    it('aborts before any complete win, and later completes say so', async () => {
      const upload = await stagedUpload();
      const first = await fire(upload.id, ['abort', 'abort', 'abort']);
      assert.deepEqual(first.map((a) => a.status), [204, 204, 204]);
      const later = await fire(upload.id, ['complete', 'abort']);
      assert.deepEqual(later.map((a) => [a.status, a.code ?? null]), [[409, 'upload_aborted'], [204, null]]);
      assert.equal(await assertConsistent(upload, [...first, ...later]), 'aborted');
    });
  });
}
