/**
 * The changes that make a bucket match its spec: a pure comparison of spec.ts's BucketSpec with the
 * state state.ts read, so the same plan serves `upfront setup` (which applies it) and `--dry-run`.
 */
import type { BucketState } from './state.ts';
import type { BucketRole, BucketSpec, CorsRule, LifecycleRule, PolicyDocument, PolicyStatement, PublicAccessBlock } from './spec.ts';
import { sameWebsite } from './website.ts';

export type Setting = 'bucket' | 'public-access' | 'acl' | 'policy' | 'cors' | 'lifecycle' | 'versioning' | 'website' | 'notifications';

export interface Change {
  bucket: string;
  role: BucketRole;
  setting: Setting;
  /** What the change does, for people. */
  summary: string;
}

export function planBucket(spec: BucketSpec, state: BucketState): Change[] {
  const changes: Change[] = [];
  const change = (setting: Setting, summary: string) => changes.push({ bucket: spec.name, role: spec.role, setting, summary });
  if (!state.exists) change('bucket', 'create the bucket');
  // Before the policy: AWS refuses a public bucket policy while BlockPublicPolicy is on (new buckets' default).
  if (spec.publicAccessBlock && !same(spec.publicAccessBlock, state.publicAccessBlock)) change('public-access', `set Block Public Access: ${describeBlock(spec.publicAccessBlock)}`);
  if (state.publicAcl) change('acl', 'make the ACL private (it grants access to everyone)');
  if (!samePolicy(spec.policy, state.policy)) {
    change('policy', spec.policy ? `set the bucket policy: ${describePolicy(spec.policy)}` : `remove the bucket policy (${describePolicy(state.policy!)})`);
  }
  if (spec.cors && !sameCors(spec.cors, state.cors)) change('cors', `set CORS: ${spec.cors.map(describeCors).join('; ')}`);
  if (!sameRules(spec.lifecycle, ownRules(state.lifecycle))) {
    change('lifecycle', spec.lifecycle.length > 0 ? `set lifecycle: ${spec.lifecycle.map(describeRule).join('; ')}` : 'remove Upfront\'s lifecycle rules (no longer configured)');
  }
  if (spec.versioning && state.versioning !== 'Enabled') change('versioning', 'turn versioning on (replaced and deleted files can be restored)');
  if (spec.website && !sameWebsite(spec.website, state.website)) {
    change('website', `serve it as a website (index document ${spec.website.indexDocument}, error document ${spec.website.errorDocument})`);
  }
  return changes;
}

/** The lifecycle rules Upfront owns. */
export const ownRules = (rules: LifecycleRule[]) => rules.filter((rule) => rule.id.startsWith('upfront-'));

const sorted = (values: string[], lower = false) => [...new Set(values.map((value) => (lower ? value.toLowerCase() : value)))].sort();
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function sameCors(want: CorsRule[], have: CorsRule[]): boolean {
  const canonical = (rules: CorsRule[]) =>
    rules
      .map((rule) => ({
        origins: sorted(rule.allowedOrigins),
        methods: sorted(rule.allowedMethods.map((method) => method.toUpperCase())),
        headers: sorted(rule.allowedHeaders, true),
        expose: sorted(rule.exposeHeaders, true),
        maxAge: rule.maxAgeSeconds,
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return same(canonical(want), canonical(have));
}

function sameRules(want: LifecycleRule[], have: LifecycleRule[]): boolean {
  const canonical = (rules: LifecycleRule[]) =>
    rules
      .map(({ id, prefix, expirationDays, abortIncompleteDays, transitions }) => ({ id, prefix, expirationDays, abortIncompleteDays, transitions: transitions?.map(({ days, storageClass }) => ({ days, storageClass })) }))
      .sort((a, b) => a.id.localeCompare(b.id));
  return same(canonical(want), canonical(have));
}

function samePolicy(want: PolicyDocument | null, have: PolicyDocument | null): boolean {
  if (!want || !have) return want === have;
  // Stores write a policy back in their own shape: a lone value for a one-item list, {"AWS": "*"} for "*".
  const list = (value: string | string[] | undefined) => sorted([value ?? []].flat());
  const principal = (value: unknown) => (value === '*' || same(value, { AWS: '*' }) || same(value, { AWS: ['*'] }) ? '*' : value);
  const canonical = (policy: PolicyDocument) =>
    policy.Statement.map((statement) => ({
      sid: statement.Sid ?? '',
      effect: statement.Effect,
      principal: principal(statement.Principal),
      notPrincipal: statement.NotPrincipal,
      action: list(statement.Action),
      resource: list(statement.Resource),
      // Condition keys are case-insensitive (AWS:SourceArn, aws:SourceArn).
      condition: Object.entries(statement.Condition ?? {})
        .flatMap(([test, pairs]) => Object.entries(pairs).map(([key, values]) => [test, key.toLowerCase(), list(values)]))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    })).sort((a, b) => a.sid.localeCompare(b.sid));
  return same(canonical(want), canonical(have));
}

function describePolicy(policy: PolicyDocument): string {
  return policy.Statement.map(
    (statement) =>
      `${statement.Effect === 'Allow' ? 'allow' : 'deny'} ${describePrincipal(statement)} ${[statement.Action].flat().join(', ')} on ${[statement.Resource].flat().join(', ')}${describeCondition(statement.Condition)}`,
  ).join('; ');
}

function describePrincipal({ Principal, NotPrincipal }: PolicyStatement): string {
  if (NotPrincipal) return `anyone but ${Object.values(NotPrincipal).flat().join(', ')}`;
  return Principal === '*' ? 'anyone' : JSON.stringify(Principal);
}

/** ` if …` of a statement's condition; a secret Referer is named, never printed. */
function describeCondition(condition: PolicyStatement['Condition']): string {
  const words: Record<string, string> = { StringEquals: 'is', IpAddress: 'in' };
  const tests = Object.entries(condition ?? {}).flatMap(([test, pairs]) =>
    Object.entries(pairs).map(([key, values]) => (key.toLowerCase() === 'aws:referer' ? `${key} is the CDN's secret` : `${key} ${words[test] ?? test} ${[values].flat().join(', ')}`)),
  );
  return tests.length > 0 ? ` if ${tests.join(' and ')}` : '';
}

function describeBlock(block: PublicAccessBlock): string {
  const names = { blockPublicAcls: 'BlockPublicAcls', ignorePublicAcls: 'IgnorePublicAcls', blockPublicPolicy: 'BlockPublicPolicy', restrictPublicBuckets: 'RestrictPublicBuckets' } as const;
  const switches = Object.keys(names) as (keyof PublicAccessBlock)[];
  const on = switches.filter((name) => block[name]).map((name) => names[name]);
  const off = switches.filter((name) => !block[name]).map((name) => names[name]);
  return [on.length > 0 && `${on.join(', ')} on`, off.length > 0 && `${off.join(', ')} off (the bucket policy's public read)`].filter(Boolean).join('; ');
}

function describeCors(rule: CorsRule): string {
  return `${rule.allowedMethods.join(', ')} from ${rule.allowedOrigins.join(', ')}${rule.allowedHeaders.length ? ` with ${rule.allowedHeaders.join(', ')}` : ''}, exposing ${rule.exposeHeaders.join(', ')}`;
}

function describeRule(rule: LifecycleRule): string {
  const where = rule.prefix ? ` under ${rule.prefix}` : '';
  if (rule.expirationDays !== undefined) return `expire objects${where} after ${days(rule.expirationDays)}`;
  if (rule.transitions) return rule.transitions.map((transition) => `move objects${where} to ${transition.storageClass} after ${days(transition.days)}`).join('; ');
  return `abort multipart uploads${where} unfinished after ${days(rule.abortIncompleteDays!)}`;
}

const days = (n: number) => (n === 1 ? '1 day' : `${n} days`);
