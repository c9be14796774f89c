/**
 * Presigns per second: Upfront's hand-written SigV4 (sigv4.ts) against the AWS SDK's getSignedUrl for the
 * same PUT (Content-Type and Content-Length signed), and against the floor of any SigV4 signer: one
 * SHA-256 of a ~300-byte canonical request plus one HMAC-SHA256 of the string to sign.
 * All three are measured in the same run, interleaved, so the ratios hold whatever the machine.
 *
 *   npx tsx bench/signer.ts
 */
import { createHash, createHmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { objectUrl, presignUrl, type Credentials } from '../packages/server/src/storage/sigv4.ts';
import { sdkPresignUrl, type ClientConfig } from '../test/support/sdk-vectors.ts';

const credentials: Credentials = { accessKeyId: 'AKIAUPFRONTBENCH', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const config: ClientConfig = { endpoint: 'http://127.0.0.1:7480', forcePathStyle: true, region: 'us-east-1', credentials };
const bucket = 'upfront-staging';
const key = 'u/4f2a9c/2024-05-06-6f1c2b9e-8d3a-4b7e-9c1d-2e5f7a8b9c0d.png';

const upfront = () => presignUrl({
  method: 'PUT', url: objectUrl(config.endpoint, bucket, key, true), expiresIn: 600,
  headers: { 'content-type': 'image/png', 'content-length': '1048576' }, credentials, region: config.region,
});

const sdk = () => sdkPresignUrl(config, { op: 'PutObject', bucket, key, contentType: 'image/png', contentLength: 1048576 }, 600, new Date());

// A canonical request of the size presignUrl hashes (~300 bytes), and a derived key.
const canonicalRequest = `PUT\n/${bucket}/${key}\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=AKIAUPFRONTBENCH%2F20240506%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240506T070809Z&X-Amz-Expires=600&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost\ncontent-length:1048576\ncontent-type:image/png\nhost:127.0.0.1:7480\n\ncontent-length;content-type;host\nUNSIGNED-PAYLOAD`;
const signingKey = createHmac('sha256', 'key').update('scope').digest();
const floor = () => {
  const hashed = createHash('sha256').update(canonicalRequest).digest('hex');
  return createHmac('sha256', signingKey).update(`AWS4-HMAC-SHA256\n20240506T070809Z\n20240506/us-east-1/s3/aws4_request\n${hashed}`).digest('hex');
};

/** Operations per second of `op` over about `ms` milliseconds (batches of 64, to keep clock reads cheap). */
async function measure(op: () => unknown, ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 64; i++) await op();
    count += 64;
    elapsed = performance.now() - start;
  }
  return (count / elapsed) * 1000;
}

/** Sync ops measured without an await per call (an await alone costs about as much as the floor). */
function measureSync(op: () => unknown, ms: number): number {
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 256; i++) op();
    count += 256;
    elapsed = performance.now() - start;
  }
  return (count / elapsed) * 1000;
}

export async function benchSigner(): Promise<{ name: string; opsPerSec: number }[]> {
  const subjects: { name: string; run: (ms: number) => Promise<number> | number }[] = [
    { name: 'upfront presignUrl', run: (ms) => measureSync(upfront, ms) },
    { name: 'aws-sdk getSignedUrl', run: (ms) => measure(sdk, ms) },
    { name: 'floor (sha256 + hmac)', run: (ms) => measureSync(floor, ms) },
  ];
  for (const subject of subjects) await subject.run(300); // warm-up: JIT, caches, the SDK's client
  const best = new Map<string, number>();
  for (let round = 0; round < 3; round++) {
    for (const subject of subjects) {
      const opsPerSec = await subject.run(400);
      best.set(subject.name, Math.max(best.get(subject.name) ?? 0, opsPerSec));
    }
  }
  return subjects.map(({ name }) => ({ name, opsPerSec: Math.round(best.get(name)!) }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchSigner();
  const ops = (name: string) => results.find((r) => r.name.startsWith(name))!.opsPerSec;
  console.table(results.map(({ name, opsPerSec }) => ({ name, 'ops/s': opsPerSec, 'µs/op': +(1e6 / opsPerSec).toFixed(2) })));
  console.log(`upfront/sdk:   ${(ops('upfront') / ops('aws-sdk')).toFixed(1)}x   (target >= 20x)`);
  console.log(`upfront/floor: ${(ops('upfront') / ops('floor')).toFixed(2)}    (target >= 0.33)`);
}
