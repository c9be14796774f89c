/**
 * The s3 driver with the AWS SDK loaded when storage is first talked to, not when the API starts: a
 * create-upload only signs (s3-signing.ts), so a new process (a Lambda's cold start, `upfront serve`)
 * answers its first ones without loading, evaluating and configuring the SDK, which costs more than
 * the rest of the API together. The first call that reaches storage loads the full driver, once.
 */
import type { S3DriverConfig } from './s3-config.ts';
import { s3Signing } from './s3-signing.ts';
import type { StorageDriver } from './types.ts';

type Later = 'head' | 'readStart' | 'read' | 'put' | 'copy' | 'delete' | 'listVersions' | 'createMultipart' | 'listParts' | 'completeMultipart'
  | 'abortMultipart' | 'list' | 'listMultipartUploads';

export function createLazyS3Driver(config: S3DriverConfig): StorageDriver {
  let loading: Promise<StorageDriver> | undefined;
  const driver = () => (loading ??= import('./s3-driver.ts').then(({ createS3Driver }) => createS3Driver(config)));
  const later = <K extends Later>(operation: K): StorageDriver[K] =>
    (async (...args: unknown[]) => {
      const loaded = await driver();
      return (loaded[operation] as (...args: unknown[]) => Promise<unknown>).apply(loaded, args);
    }) as StorageDriver[K];
  const { signed, publicUrl } = s3Signing(config);
  return {
    kind: 's3',
    ...signed,
    publicUrl,
    head: later('head'),
    readStart: later('readStart'),
    read: later('read'),
    put: later('put'),
    copy: later('copy'),
    delete: later('delete'),
    listVersions: later('listVersions'),
    createMultipart: later('createMultipart'),
    listParts: later('listParts'),
    completeMultipart: later('completeMultipart'),
    abortMultipart: later('abortMultipart'),
    list: later('list'),
    listMultipartUploads: later('listMultipartUploads'),
  };
}
