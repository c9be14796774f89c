/** `@upfront/server/buckets`: provisioning the buckets (`upfront setup`) and checking them (`upfront doctor`). */
export { diagnose, type DiagnoseOptions, type Finding, type Status } from './doctor.ts';
export { setupBuckets, SetupError, type SetupOptions, type SetupResult } from './setup.ts';
export type { Change, Setting } from './plan.ts';
export { adminPolicy, runtimePolicy, type IamPolicy, type IamStatement, type PolicyRoute } from './policy.ts';
export { bucketSpecs, DEFAULT_BUCKET_SETTINGS, SIGNED_UPLOAD_HEADERS, type BucketSettings, type BucketSpec } from './spec.ts';
export { publicBucketUrl, type CdnConfig } from './cdn.ts';
export { deploySite, DeployError, type DeployOptions, type DeployResult, type DeployedFile } from './site-deploy.ts';
export type { SiteConfig } from './website.ts';
export { eventsSettings, type EventsSettings } from './notifications.ts';
export { samTemplate, parameterName, type SamTemplate, type SamTemplateInput } from './sam-template.ts';
