/**
 * Wraps a StorageDriver to time every call that reaches the backend (presigning is local and pure,
 * so it is not timed). A decorator, so the drivers stay free of metrics.
 */
import type { UpfrontMetrics } from '../http/metrics.ts';
import type { StorageDriver } from './types.ts';

type Timed = 'head' | 'readStart' | 'copy' | 'delete' | 'listVersions' | 'createMultipart' | 'listParts' | 'completeMultipart' | 'abortMultipart'
  | 'list' | 'listMultipartUploads' | 'read' | 'put';

export function timedDriver(driver: StorageDriver, metrics: UpfrontMetrics): StorageDriver {
  const time = <K extends Timed>(operation: K): StorageDriver[K] => {
    const call = driver[operation] as (...args: unknown[]) => Promise<unknown>;
    return (async (...args: unknown[]) => {
      const end = metrics.storageDuration.startTimer({ operation });
      try {
        const result = await call.apply(driver, args);
        end({ outcome: 'ok' });
        return result;
      } catch (error) {
        end({ outcome: 'error' });
        throw error;
      }
    }) as StorageDriver[K];
  };
  return {
    kind: driver.kind,
    presignPut: (input) => driver.presignPut(input),
    presignPost: (input) => driver.presignPost(input),
    presignGet: (bucket, key, input) => driver.presignGet(bucket, key, input),
    presignPart: (input) => driver.presignPart(input),
    publicUrl: (key) => driver.publicUrl(key),
    head: time('head'),
    readStart: time('readStart'),
    copy: time('copy'),
    delete: time('delete'),
    listVersions: time('listVersions'),
    createMultipart: time('createMultipart'),
    listParts: time('listParts'),
    completeMultipart: time('completeMultipart'),
    abortMultipart: time('abortMultipart'),
    list: time('list'),
    listMultipartUploads: time('listMultipartUploads'),
    read: time('read'),
    put: time('put'),
  };
}
