import { useEffect, useState } from 'react';
import type { UploadedFile } from '@upfront/client';
import type { Api, FileVersion } from './api.ts';
import { formatSize } from './format.ts';

interface VersionsProps {
  file: UploadedFile;
  api: Api;
  /** A version was restored or added: the file changed. */
  onChanged(): void;
  onError(error: unknown): void;
}

/** A file's versions, newest first: a new one uploaded here (`replaces`), an older one restored. */
export function Versions({ file, api, onChanged, onError }: VersionsProps) {
  const [versions, setVersions] = useState<FileVersion[]>();
  const [busy, setBusy] = useState<string>();

  useEffect(() => {
    let current = true;
    api.versions(file.id).then((listed) => current && setVersions(listed), (error: unknown) => current && onError(error));
    return () => {
      current = false;
    };
    // The gallery hands a new file object after each change (a restore, a new version): list again.
  }, [api, file, onError]);

  const run = async (what: string, action: () => Promise<unknown>) => {
    setBusy(what);
    try {
      await action();
      onChanged();
    } catch (error) {
      onError(error);
    } finally {
      setBusy(undefined);
    }
  };
  const replaceWith = (picked: File | undefined) => picked && void run('replace', () => api.replace(file.id, file.route, picked));

  return (
    <section className="versions" aria-label={`Versions of ${file.filename}`} data-state={busy ? 'busy' : versions ? 'ready' : 'loading'}>
      <label className="replace">
        Upload a new version
        <input type="file" accept={file.contentType} disabled={busy !== undefined} aria-label={`New version of ${file.filename}`}
          onChange={(event) => { replaceWith(event.currentTarget.files?.[0]); event.currentTarget.value = ''; }} />
      </label>
      {versions && (
        <ol>
          {versions.map((version) => {
            const when = new Date(version.createdAt).toLocaleString();
            return (
              <li key={version.id} data-version-id={version.id} data-current={version.isCurrent} data-sha256={version.sha256 ?? ''}>
                <a href={version.url} download={version.filename} aria-label={`Download ${version.filename} of ${when}`}>{version.filename}</a>{' '}
                <span className="meta">{formatSize(version.size)} · {when}</span>{' '}
                {version.isCurrent ? (
                  <strong>current</strong>
                ) : (
                  <button type="button" disabled={busy !== undefined} onClick={() => void run(version.id, () => api.restore(file.id, version.id))} aria-label={`Restore ${version.filename} of ${when}`}>
                    Restore
                  </button>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
