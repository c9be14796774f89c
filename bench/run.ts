/**
 * npm run bench — every benchmark, each against a peer measured in the same run; prints ratios.
 * Not part of the tests: nothing here gates CI on absolute times.
 */
import { benchCreateUpload } from './create-upload.ts';
import { benchSigner } from './signer.ts';

const signer = await benchSigner();
const ops = (prefix: string) => signer.find((r) => r.name.startsWith(prefix))!.opsPerSec;
console.log('\nPresigning one PUT URL (content-type and content-length signed)');
console.table(signer.map(({ name, opsPerSec }) => ({ name, 'ops/s': opsPerSec, 'µs/op': +(1e6 / opsPerSec).toFixed(2) })));
console.log(`  upfront / aws-sdk: ${(ops('upfront') / ops('aws-sdk')).toFixed(1)}x   (target >= 20x)`);
console.log(`  upfront / floor:   ${(ops('upfront') / ops('floor')).toFixed(2)}    (target >= 0.33)`);

console.log('\nCreate-upload through the HTTP API (auth + validation + SQLite + presign), 16 in flight');
const api = await benchCreateUpload();
console.table([
  { server: 'upfront', 'requests/s': Math.round(api.upfront), 'µs/request': +(1e6 / api.upfront).toFixed(0) },
  { server: 'reference (AWS SDK presigner)', 'requests/s': Math.round(api.reference), 'µs/request': +(1e6 / api.reference).toFixed(0) },
  { server: 'floor (same HTTP stack, no work)', 'requests/s': Math.round(api.floor), 'µs/request': +(1e6 / api.floor).toFixed(0) },
]);
console.log(`  upfront / reference: ${(api.upfront / api.reference).toFixed(2)}x   (target >= 3x)`);
// The SDK's share of a reference request is (1/reference - 1/upfront); even a server that did nothing
// else (the floor) could not beat the reference by more than this:
const sdkCost = 1 / api.reference - 1 / api.upfront;
console.log(`  AWS SDK presign inside the reference: ~${(sdkCost * 1e6).toFixed(0)} µs/request`);
console.log(`  best ratio any server on this HTTP stack could reach: ${((1 / api.floor + sdkCost) * api.floor).toFixed(2)}x`);
