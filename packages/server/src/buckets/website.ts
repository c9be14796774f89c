/**
 * The optional website bucket (`"buckets": {"site": …}`): a built front end, served by the store's
 * website endpoint (S3 static website hosting; RGW's s3website API), which answers a directory with its
 * index document and a missing file with the error document. Anyone may read it, nobody may list it.
 */
import { GetBucketWebsiteCommand, PutBucketWebsiteCommand, type S3Client } from '@aws-sdk/client-s3';

export interface SiteConfig {
  bucket: string;
  /** Where browsers reach the site: the bucket's website endpoint, or a CDN in front of it. */
  url: string;
  /** Served for a directory, e.g. `/` (default index.html). */
  indexDocument: string;
  /** Served, with its error status, for a file that is not there (default 404.html). */
  errorDocument: string;
}

export interface WebsiteSettings {
  indexDocument: string;
  errorDocument: string;
}

/** The bucket's website configuration; null when it is not a website. */
export async function readWebsite(s3: S3Client, bucket: string): Promise<WebsiteSettings | null> {
  try {
    const answer = await s3.send(new GetBucketWebsiteCommand({ Bucket: bucket }));
    return { indexDocument: answer.IndexDocument?.Suffix ?? '', errorDocument: answer.ErrorDocument?.Key ?? '' };
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchWebsiteConfiguration') return null;
    throw error;
  }
}

export async function putWebsite(s3: S3Client, bucket: string, website: WebsiteSettings): Promise<void> {
  await s3.send(
    new PutBucketWebsiteCommand({
      Bucket: bucket,
      WebsiteConfiguration: { IndexDocument: { Suffix: website.indexDocument }, ErrorDocument: { Key: website.errorDocument } },
    }),
  );
}

export const sameWebsite = (want: WebsiteSettings, have: WebsiteSettings | null | undefined): boolean =>
  !!have && want.indexDocument === have.indexDocument && want.errorDocument === have.errorDocument;
