/**
 * Reads of public files through a CDN: when one is configured (`"buckets": {"cdn": …}`), the public
 * bucket's policy lets only the CDN read, so files are never served around its cache and headers. How
 * the bucket tells the CDN apart is the store's business: on AWS, CloudFront's Origin Access Control
 * (the service principal, bound to one distribution); elsewhere what the store's bucket policies check,
 * a secret the CDN sends as Referer (RGW, MinIO and AWS evaluate aws:Referer) or the CDN's addresses.
 */
import type { S3DriverConfig } from '../storage/s3-config.ts';
import { objectUrl } from '../storage/sigv4.ts';
import type { PolicyStatement } from './spec.ts';

export type CdnConfig =
  /** The CDN sends this as its Referer header to the bucket (nginx: `proxy_set_header Referer`). */
  | { secret: string }
  /** The addresses the CDN reaches the bucket from (CIDR blocks). */
  | { sourceIps: string[] }
  /** CloudFront with Origin Access Control: the distribution's ARN. */
  | { cloudFrontDistributionArn: string };

/** The one statement that lets anonymous reads of public files through: anyone's, or the CDN's only. */
export function publicReadStatement(bucket: string, cdn: CdnConfig | undefined): PolicyStatement {
  const read = { Effect: 'Allow' as const, Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] };
  if (!cdn) return { Sid: 'UpfrontPublicRead', Principal: '*', ...read };
  if ('cloudFrontDistributionArn' in cdn) {
    return {
      Sid: 'UpfrontCloudFrontRead',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      ...read,
      Condition: { StringEquals: { 'AWS:SourceArn': cdn.cloudFrontDistributionArn } },
    };
  }
  if ('secret' in cdn) return { Sid: 'UpfrontCdnRead', Principal: '*', ...read, Condition: { StringEquals: { 'aws:Referer': cdn.secret } } };
  return { Sid: 'UpfrontCdnRead', Principal: '*', ...read, Condition: { IpAddress: { 'aws:SourceIp': cdn.sourceIps } } };
}

/** The public bucket's URL (ending in `/`): the CDN's origin. */
export const publicBucketUrl = ({ endpoint, buckets, forcePathStyle }: Pick<S3DriverConfig, 'endpoint' | 'buckets' | 'forcePathStyle'>): string =>
  objectUrl(endpoint, buckets.public, '', forcePathStyle);
