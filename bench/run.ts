/**
 * npm run bench — every benchmark, each against a peer measured in the same run; prints ratios and
 * whether each meets its target. Not part of the tests: nothing here gates CI on absolute times.
 * Needs the compiled packages (scripts/bench.sh builds them) and a Ceph RGW in the S3_* environment
 * (scripts/bench.sh starts one).
 */
import { benchColdStart } from './cold-start.ts';
import { benchCompleteDisk } from './complete-disk.ts';
import { benchCompleteRgw } from './complete-rgw.ts';
import { benchCreateUpload } from './create-upload.ts';
import { benchCreateUploadPg, formatBurst } from './create-upload-pg.ts';
import { benchLambdaColdStart } from './lambda-cold-start.ts';
import { benchSigner } from './signer.ts';
import { benchBrowserUpload } from './upload-browser.ts';
import { benchLargeUpload } from './upload-large.ts';

const summary: { measure: string; ratio: string; target: string; met: string }[] = [];
/** `unit` is '' for a figure that is a ratio of two quantities rather than of two peers (bytes per byte). */
function ratio(measure: string, value: number, target: string, met: boolean, digits = 2, unit = 'x'): void {
  summary.push({ measure, ratio: `${value.toFixed(digits)}${unit}`, target, met: met ? 'yes' : 'NO' });
  console.log(`  ${measure}: ${value.toFixed(digits)}${unit}   (target ${target})`);
}
const ms = (value: number) => +value.toFixed(1);

const signer = await benchSigner();
const ops = (prefix: string) => signer.find((r) => r.name.startsWith(prefix))!.opsPerSec;
console.log('\nPresigning one PUT URL (content-type and content-length signed)');
console.table(signer.map(({ name, opsPerSec }) => ({ name, 'ops/s': opsPerSec, 'µs/op': +(1e6 / opsPerSec).toFixed(2) })));
ratio('signer: upfront / aws-sdk', ops('upfront') / ops('aws-sdk'), '>= 20x', ops('upfront') / ops('aws-sdk') >= 20, 1);
ratio('signer: upfront / floor (one SHA-256 + one HMAC)', ops('upfront') / ops('floor'), '>= 0.33', ops('upfront') / ops('floor') >= 0.33);

console.log('\nCreate-upload through the HTTP API (auth + validation + durable SQLite insert + presign), 16 in flight');
const api = await benchCreateUpload();
console.table([
  { server: 'upfront', 'requests/s': Math.round(api.upfront), 'µs/request': +(1e6 / api.upfront).toFixed(0) },
  { server: 'upfront, SQLite synchronous=normal', 'requests/s': Math.round(api.upfrontNormal), 'µs/request': +(1e6 / api.upfrontNormal).toFixed(0) },
  { server: 'reference (AWS SDK presigner)', 'requests/s': Math.round(api.reference), 'µs/request': +(1e6 / api.reference).toFixed(0) },
  { server: 'floor (same HTTP stack, no work)', 'requests/s': Math.round(api.floor), 'µs/request': +(1e6 / api.floor).toFixed(0) },
]);
ratio('create-upload: upfront / AWS-SDK reference', api.upfront / api.reference, '>= 3.5x', api.upfront / api.reference >= 3.5);
ratio('create-upload: upfront / no-work floor', api.upfront / api.floor, '(what is left to gain)', true);
console.log(`  durable commits (synchronous=full, the default) cost ${((1 - api.upfront / api.upfrontNormal) * 100).toFixed(0)} % of the throughput of synchronous=normal`);

console.log('\nBursts of 500 at once: create-upload alone (s3 driver), and whole uploads (disk: create, PUT, complete), PostgreSQL pools of 10 and 50 vs SQLite');
const burst = await benchCreateUploadPg();
console.table(
  Object.entries(burst).map(([database, r]) => ({
    database,
    'creates alone': formatBurst(r.create),
    'whole: create': formatBurst(r.whole.create),
    'whole: complete': formatBurst(r.whole.complete),
  })),
);
const pgCreate = burst.postgres10.create.medianMs / burst.sqlite.create.medianMs;
ratio('burst create median: PostgreSQL (pool 10) / SQLite', pgCreate, '<= 1.5x', pgCreate <= 1.5);
const pgUploads = burst.sqlite.whole.create.perSecond / burst.postgres10.whole.create.perSecond;
ratio('burst whole uploads, time per upload: PostgreSQL (pool 10) / SQLite', pgUploads, '(complete: more round trips)', true);

console.log('\nCold start: spawn → first successful create-upload (compiled `upfront serve`, disk, SQLite) vs Hono + jose + AWS SDK presigner');
const cold = await benchColdStart();
console.table([
  { server: 'upfront', 'first answer ms': ms(cold.upfrontMs), 'idle RSS MB': ms(cold.upfrontRssMb) },
  { server: 'signing server (no database)', 'first answer ms': ms(cold.peerMs), 'idle RSS MB': ms(cold.peerRssMb) },
]);
ratio('cold start: upfront / signing server', cold.upfrontMs / cold.peerMs, '<= 1.0x', cold.upfrontMs / cold.peerMs <= 1);
ratio('idle RSS: upfront / signing server', cold.upfrontRssMb / cold.peerRssMb, '<= 1.2x', cold.upfrontRssMb / cold.peerRssMb <= 1.2);

console.log('\nLambda cold start: a new process imports the bundle and answers its first create-upload (HTTP API event); `upfront lambda build` (RGW, PostgreSQL, JWKS) vs the tutorial AWS-SDK presigning function (no auth, no database)');
const lambda = await benchLambdaColdStart();
console.table([
  { function: 'upfront', 'import ms': ms(lambda.upfront.importMs), 'first invoke ms': ms(lambda.upfront.firstInvokeMs), 'cold ms': ms(lambda.upfront.coldMs), 'entry KB': Math.round(lambda.upfrontBundleBytes / 1024) },
  { function: 'AWS SDK presigner', 'import ms': ms(lambda.peer.importMs), 'first invoke ms': ms(lambda.peer.firstInvokeMs), 'cold ms': ms(lambda.peer.coldMs), 'entry KB': Math.round(lambda.peerBundleBytes / 1024) },
  { function: 'presigner + JWT + PostgreSQL', 'import ms': ms(lambda.checkedPeer.importMs), 'first invoke ms': ms(lambda.checkedPeer.firstInvokeMs), 'cold ms': ms(lambda.checkedPeer.coldMs) },
  { function: 'JWT + PostgreSQL alone (floor)', 'import ms': ms(lambda.floor.importMs), 'first invoke ms': ms(lambda.floor.firstInvokeMs), 'cold ms': ms(lambda.floor.coldMs) },
]);
ratio('lambda cold start: upfront / AWS-SDK presigning function', lambda.upfront.coldMs / lambda.peer.coldMs, '<= 0.5x', lambda.upfront.coldMs / lambda.peer.coldMs <= 0.5);
// No target: how far Upfront is from the floor of a function with its duties (the JWT, the database).
console.log(`lambda cold start: upfront / presigner + JWT + PostgreSQL: ${(lambda.upfront.coldMs / lambda.checkedPeer.coldMs).toFixed(2)}x (information)`);
console.log(`lambda cold start: the floor (JWT + PostgreSQL alone) / AWS-SDK presigning function: ${(lambda.floor.coldMs / lambda.peer.coldMs).toFixed(2)}x (what 0.5x would need to beat)`);

console.log('\nComplete of a 10 MB PNG on Ceph RGW, through the API, vs bare HEAD + CopyObject + DeleteObject (same SDK client settings)');
const rgw = await benchCompleteRgw();
console.table([{ 'upfront ms': ms(rgw.upfrontMs), 'bare ms': ms(rgw.bareMs), runs: rgw.runs }]);
ratio('complete on RGW: upfront / bare', rgw.ratio, '<= 1.1x', rgw.ratio <= 1.1);

console.log('\nComplete on the disk driver: 1 GiB vs 1 KB');
const disk = await benchCompleteDisk();
console.table([{ '1 KB ms': ms(disk.smallMs), '1 GiB ms': ms(disk.largeMs), runs: disk.runs }]);
ratio('complete on disk: 1 GiB / 1 KB', disk.ratio, '<= 1.5x', disk.ratio <= 1.5);

// The large uploads last: they take most of the time and hundreds of MB of RGW's memory store per run.
console.log('\nLarge upload into Ceph RGW from Node: @upfront/client (parts with signed MD5s, SHA-256, complete) vs @aws-sdk/lib-storage Upload (defaults, nothing verified)');
const large = await benchLargeUpload();
console.table([{
  GiB: +(large.bytes / 1024 ** 3).toFixed(2),
  'upfront MB/s': Math.round(large.upfrontMBps),
  'lib-storage MB/s': Math.round(large.sdkMBps),
  'upfront, checksums off, MB/s': Math.round(large.uncheckedMBps),
  'API CPU s per GiB': +large.apiCpuSecondsPerGiB.toFixed(2),
  runs: large.runs,
}]);
ratio('large upload from Node: upfront / lib-storage', large.ratio, '>= 1.2x', large.ratio >= 1.2);
ratio('large upload from Node: bytes through the API per byte uploaded', large.apiBytesPerByte, '<= 0.001', large.apiBytesPerByte <= 0.001, 6, '');

console.log('\nLarge upload into Ceph RGW from headless Chromium: @upfront/client (parts with signed MD5s, SHA-256 in a Web Worker, complete) vs one presigned PUT with fetch');
const browserUpload = await benchBrowserUpload();
console.table([{
  MiB: +(browserUpload.bytes / 1024 ** 2).toFixed(0),
  'upfront MB/s': Math.round(browserUpload.upfrontMBps),
  'presigned PUT MB/s': Math.round(browserUpload.putMBps),
  runs: browserUpload.runs,
}]);
ratio('large upload from Chromium: upfront / one presigned PUT', browserUpload.ratio, '(no target yet)', true);

console.log('\nSummary');
console.table(summary);
