import type { Background } from './background.ts';
import type { UpfrontConfig } from './config.ts';
import type { UpfrontMetrics } from './http/metrics.ts';
import type { StorageDriver } from './storage/types.ts';
import type { UploadProcessor } from './processors/types.ts';
import type { MetadataStore } from './store/types.ts';

/** What the upload pipeline and the HTTP routes work with; built once by createUpfront. */
export interface Services {
  config: UpfrontConfig;
  storage: StorageDriver;
  store: MetadataStore;
  /** Clean-up that runs after the answer (see background.ts). */
  background: Background;
  /** This instance's Prometheus metrics (GET /metrics). */
  metrics: UpfrontMetrics;
  /** The app's processors, by the name routes use (createUpfront's `processors`). */
  processors: ReadonlyMap<string, UploadProcessor>;
}
