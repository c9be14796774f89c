/**
 * Uppy's S3 client sends create, list, complete and abort of a multipart upload to the URL the signer
 * returns, and reads S3's XML answer. Upfront does these itself, behind its API, so the adapter calls
 * the API while "signing" and hands Uppy the answer as a data: URL: read in the browser, never sent.
 */

const ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };
// Named entities: the ones Uppy's XML reader decodes.
const escape = (text: string) => text.replace(/[<>&"']/g, (c) => ENTITIES[c]!);

export const answer = (xml: string): string => `data:application/xml;charset=utf-8,${encodeURIComponent(xml)}`;

/** CreateMultipartUpload: Uppy's UploadId is Upfront's upload id. */
export const initiated = (uploadId: string, key: string): string =>
  answer(`<InitiateMultipartUploadResult><Key>${escape(key)}</Key><UploadId>${escape(uploadId)}</UploadId></InitiateMultipartUploadResult>`);

/** ListParts: the parts storage holds (ETags without quotes: Uppy strips them anyway). */
export const listed = (parts: { partNumber: number; etag: string }[]): string =>
  answer(
    `<ListPartsResult>${parts
      .map(({ partNumber, etag }) => `<Part><PartNumber>${partNumber}</PartNumber><ETag>${escape(etag.replace(/"/g, ''))}</ETag></Part>`)
      .join('')}</ListPartsResult>`,
  );

/** CompleteMultipartUpload: the bytes are in; Upfront's complete (verify, promote) follows as a post-processor. */
export const assembled = (location: string, key: string): string =>
  answer(`<CompleteMultipartUploadResult><Location>${escape(location)}</Location><Key>${escape(key)}</Key></CompleteMultipartUploadResult>`);

/** AbortMultipartUpload: nothing to read. */
export const aborted = (): string => answer('');
