/**
 * The AWS SAM template of `upfront lambda build`: the function with its least-privilege role (the
 * runtime policy `upfront policy` prints), the buckets as `upfront setup` provisions them on AWS
 * (spec.ts with AWS's profile: CORS, lifecycle, versioning, Block Public Access, bucket policies,
 * the website), and the function's events: an HTTP API, the staging bucket's created objects
 * (finalizing uploads whose browser never called complete), and a schedule for the sweep, which a second
 * function of the same code runs (Lambda's longest timeout: a sweep of large buckets takes long).
 */
import { PROFILES } from '../storage/providers.ts';
import type { S3DriverConfig } from '../storage/s3-config.ts';
import { runtimePolicy, type PolicyRoute } from './policy.ts';
import { bucketSpecs, type BucketRole, type BucketSettings, type BucketSpec } from './spec.ts';

export interface SamTemplateInput {
  storage: Pick<S3DriverConfig, 'buckets'>;
  settings: BucketSettings;
  routes: PolicyRoute[];
  /** The function's zip, relative to the template. */
  codeUri: string;
  /** The function's environment (no secrets: those are `secrets`). */
  environment: Record<string, string>;
  /** Variables whose values are the deployer's to give (NoEcho parameters), besides DATABASE_URL. */
  secrets: string[];
  /** Seconds between sweeps; 0: no schedule. */
  sweepSeconds: number;
}

/** A CloudFormation template, as JSON (which is YAML too). */
export type SamTemplate = Record<string, unknown>;

/** The principal folder rules exempt (setup's credential there): the account that deploys. */
const ACCOUNT = 'arn:aws:iam::${AWS::AccountId}:root';

const LOGICAL: Record<BucketRole, string> = { staging: 'StagingBucket', public: 'PublicBucket', private: 'PrivateBucket', site: 'SiteBucket' };

/** DATABASE_URL → DatabaseUrl: a parameter's name. */
export const parameterName = (variable: string): string => variable.toLowerCase().replace(/(^|_)([a-z0-9])/g, (_, __, letter: string) => letter.toUpperCase());

export function samTemplate(input: SamTemplateInput): SamTemplate {
  const specs = bucketSpecs(input.storage, input.settings, PROFILES.aws, input.settings.folders?.length ? ACCOUNT : undefined);
  const secrets = ['DATABASE_URL', ...input.secrets];
  const resources: Record<string, unknown> = {};
  for (const spec of specs) {
    resources[LOGICAL[spec.role]] = { Type: 'AWS::S3::Bucket', Properties: bucketProperties(spec) };
    if (spec.policy) {
      resources[`${LOGICAL[spec.role]}Policy`] = { Type: 'AWS::S3::BucketPolicy', Properties: { Bucket: { Ref: LOGICAL[spec.role] }, PolicyDocument: spec.policy } };
    }
  }
  const minutes = Math.max(1, Math.round(input.sweepSeconds / 60));
  // Both functions run the same code with the same role; the sweep gets Lambda's longest timeout.
  const fn = (timeout: number, events: Record<string, unknown>) => ({
    Type: 'AWS::Serverless::Function',
    Properties: {
      CodeUri: input.codeUri,
      Handler: 'index.handler',
      Runtime: 'nodejs20.x',
      Architectures: ['x86_64'],
      MemorySize: 1024,
      Timeout: timeout,
      Environment: {
        Variables: {
          NODE_ENV: 'production',
          // A container serves one event at a time: a small pool per container (RDS Proxy in front for many containers).
          DATABASE_POOL_SIZE: '2',
          ...input.environment,
          ...Object.fromEntries(secrets.map((name) => [name, { Ref: parameterName(name) }])),
        },
      },
      Policies: [runtimePolicy(input.storage, input.routes)],
      Events: events,
    },
  });
  // API Gateway answers within 30 s at most; a complete copies the file within that.
  resources.UpfrontFunction = fn(30, {
    Api: { Type: 'HttpApi' },
    StagingObjectCreated: { Type: 'S3', Properties: { Bucket: { Ref: LOGICAL.staging }, Events: 's3:ObjectCreated:*' } },
  });
  if (input.sweepSeconds > 0) {
    resources.UpfrontSweepFunction = fn(900, { Sweep: { Type: 'Schedule', Properties: { Schedule: `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})` } } });
  }
  return withAccountId({
    AWSTemplateFormatVersion: '2010-09-09',
    Transform: 'AWS::Serverless-2016-10-31',
    Description: 'Upfront: direct-to-storage uploads (upfront lambda build)',
    Parameters: Object.fromEntries(secrets.map((name) => [parameterName(name), { Type: 'String', NoEcho: true, Description: `${name} of the function` }])),
    Resources: resources,
    Outputs: {
      ApiUrl: { Description: 'The Upfront API', Value: { 'Fn::Sub': 'https://${ServerlessHttpApi}.execute-api.${AWS::Region}.amazonaws.com' } },
    },
  }) as SamTemplate;
}

function bucketProperties(spec: BucketSpec): Record<string, unknown> {
  const block = spec.publicAccessBlock;
  return {
    BucketName: spec.name,
    ...(spec.cors && {
      CorsConfiguration: {
        CorsRules: spec.cors.map((rule) => ({
          AllowedOrigins: rule.allowedOrigins,
          AllowedMethods: rule.allowedMethods,
          AllowedHeaders: rule.allowedHeaders,
          ExposedHeaders: rule.exposeHeaders,
          MaxAge: rule.maxAgeSeconds,
        })),
      },
    }),
    ...(spec.lifecycle.length > 0 && {
      LifecycleConfiguration: {
        Rules: spec.lifecycle.map((rule) => ({
          Id: rule.id,
          Status: 'Enabled',
          Prefix: rule.prefix,
          ...(rule.expirationDays !== undefined && { ExpirationInDays: rule.expirationDays }),
          ...(rule.abortIncompleteDays !== undefined && { AbortIncompleteMultipartUpload: { DaysAfterInitiation: rule.abortIncompleteDays } }),
          ...(rule.transitions && { Transitions: rule.transitions.map((transition) => ({ TransitionInDays: transition.days, StorageClass: transition.storageClass })) }),
        })),
      },
    }),
    ...(spec.versioning && { VersioningConfiguration: { Status: 'Enabled' } }),
    ...(block && {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: block.blockPublicAcls,
        IgnorePublicAcls: block.ignorePublicAcls,
        BlockPublicPolicy: block.blockPublicPolicy,
        RestrictPublicBuckets: block.restrictPublicBuckets,
      },
    }),
    ...(spec.website && { WebsiteConfiguration: { IndexDocument: spec.website.indexDocument, ErrorDocument: spec.website.errorDocument } }),
  };
}

/** Strings naming the account become Fn::Sub, which fills it in at deployment. */
function withAccountId(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('${AWS::AccountId}') ? { 'Fn::Sub': value } : value;
  if (Array.isArray(value)) return value.map(withAccountId);
  if (typeof value === 'object' && value !== null) {
    if ('Fn::Sub' in value) return value;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withAccountId(inner)]));
  }
  return value;
}
