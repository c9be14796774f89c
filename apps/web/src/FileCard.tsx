import { useState } from 'react';
import type { UpfrontClient, UploadedFile } from '@upfront/client';
import type { Api } from './api.ts';
import { formatSize } from './format.ts';
import { Versions } from './Versions.tsx';

interface FileCardProps {
  file: UploadedFile;
  client: UpfrontClient;
  api: Api;
  onChange(): void;
  onError(error: unknown): void;
}

/**
 * The smallest image to show: the route's `thumb` variant (or another), else an image file itself.
 * A new version is written over the same public URL, so the URL names the version it shows (storage
 * ignores the query; signed URLs of private files change anyway and must stay as signed).
 */
function thumbnailOf(file: UploadedFile): { url: string; kind: 'variant' | 'original' } | undefined {
  const variant = file.variants?.find((candidate) => candidate.name === 'thumb') ?? file.variants?.[0];
  const url = variant?.url ?? (file.contentType.startsWith('image/') ? file.url : undefined);
  if (url === undefined) return undefined;
  const versioned = file.visibility === 'public' ? `${url}${url.includes('?') ? '&' : '?'}v=${encodeURIComponent(file.sha256 ?? file.createdAt)}` : url;
  return { url: versioned, kind: variant ? 'variant' : 'original' };
}

/**
 * One file: its thumbnail from storage (the public or CDN URL; private files' are signed), a link
 * to open it (public) or download it (private: a short-lived signed URL), its versions, and delete.
 */
export function FileCard({ file, client, api, onChange, onError }: FileCardProps) {
  const [deleting, setDeleting] = useState(false);
  const [showVersions, setShowVersions] = useState(false);
  const thumbnail = thumbnailOf(file);
  const remove = async () => {
    setDeleting(true);
    try {
      await client.deleteFile(file.id);
      onChange();
    } catch (error) {
      setDeleting(false);
      onError(error);
    }
  };
  const kind = file.contentType.replace(/^[a-z]+\//, '').toUpperCase();
  return (
    <li className="file-card" data-file-id={file.id} data-filename={file.filename} data-visibility={file.visibility}>
      <a className="preview" href={file.url} target="_blank" rel="noopener" tabIndex={-1} aria-hidden="true">
        {thumbnail ? <img src={thumbnail.url} alt="" data-thumb={thumbnail.kind} /> : <span className="kind">{kind}</span>}
      </a>
      <span className="info">
        <a href={file.url} target="_blank" rel="noopener" {...(file.visibility === 'private' && { download: file.filename })}>{file.filename}</a>
        <span className="meta">
          {formatSize(file.size)} · {kind} · {file.visibility === 'private' ? 'private (signed download)' : 'public'}
        </span>
      </span>
      <span className="actions">
        <button type="button" aria-expanded={showVersions} aria-label={`Versions of ${file.filename}`} onClick={() => setShowVersions((open) => !open)}>
          Versions
        </button>
        <button type="button" aria-label={`Delete ${file.filename}`} disabled={deleting} onClick={() => void remove()}>
          Delete
        </button>
      </span>
      {showVersions && <Versions file={file} api={api} onChanged={onChange} onError={onError} />}
    </li>
  );
}
