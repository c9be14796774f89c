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
import { benchSigner } from './signer.ts';

const summary: { measure: string; ratio: string; target: string; met: string }[] = [];
function ratio(measure: string, value: number, target: string, met: boolean, digits = 2): void {
  summary.push({ measure, ratio: `${value.toFixed(digits)}x`, target, met: met ? 'yes' : 'NO' });
  console.log(`  ${measure}: ${value.toFixed(digits)}x   (target ${target})`);
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

console.log('\nCold start: spawn → first successful create-upload (compiled `upfront serve`, disk, SQLite) vs Hono + jose + AWS SDK presigner');
const cold = await benchColdStart();
console.table([
  { server: 'upfront', 'first answer ms': ms(cold.upfrontMs), 'idle RSS MB': ms(cold.upfrontRssMb) },
  { server: 'signing server (no database)', 'first answer ms': ms(cold.peerMs), 'idle RSS MB': ms(cold.peerRssMb) },
]);
ratio('cold start: upfront / signing server', cold.upfrontMs / cold.peerMs, '<= 1.0x', cold.upfrontMs / cold.peerMs <= 1);
ratio('idle RSS: upfront / signing server', cold.upfrontRssMb / cold.peerRssMb, '<= 1.2x', cold.upfrontRssMb / cold.peerRssMb <= 1.2);

console.log('\nComplete of a 10 MB PNG on Ceph RGW, through the API, vs bare HEAD + CopyObject + DeleteObject (same SDK client settings)');
const rgw = await benchCompleteRgw();
console.table([{ 'upfront ms': ms(rgw.upfrontMs), 'bare ms': ms(rgw.bareMs), runs: rgw.runs }]);
ratio('complete on RGW: upfront / bare', rgw.ratio, '<= 1.1x', rgw.ratio <= 1.1);

console.log('\nComplete on the disk driver: 1 GiB vs 1 KB');
const disk = await benchCompleteDisk();
console.table([{ '1 KB ms': ms(disk.smallMs), '1 GiB ms': ms(disk.largeMs), runs: disk.runs }]);
ratio('complete on disk: 1 GiB / 1 KB', disk.ratio, '<= 1.5x', disk.ratio <= 1.5);

console.log('\nSummary');
console.table(summary);
