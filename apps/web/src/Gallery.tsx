import { useCallback, useEffect, useState } from 'react';
import type { UpfrontClient, UploadedFile } from '@upfront/client';
import type { Api } from './api.ts';
import { FileCard } from './FileCard.tsx';

const PAGE_SIZE = 24;

interface GalleryProps {
  client: UpfrontClient;
  api: Api;
  revision: number;
  onChange(): void;
  onError(error: unknown): void;
}

/** The user's files, newest first, a page at a time; reloaded (first page) when they change. */
export function Gallery({ client, api, revision, onChange, onError }: GalleryProps) {
  const [files, setFiles] = useState<UploadedFile[]>();
  const [next, setNext] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    client.listFiles({ limit: PAGE_SIZE }).then(
      (page) => {
        if (!current) return;
        setFiles(page.files);
        setNext(page.next);
      },
      (error: unknown) => current && onError(error),
    );
    return () => {
      current = false;
    };
  }, [client, revision, onError]);

  const more = useCallback(async () => {
    if (!next) return;
    try {
      const page = await client.listFiles({ limit: PAGE_SIZE, before: next });
      setFiles((shown) => [...(shown ?? []), ...page.files]);
      setNext(page.next);
    } catch (error) {
      onError(error);
    }
  }, [client, next, onError]);

  return (
    <section aria-labelledby="files-heading" className="gallery" data-state={files === undefined ? 'loading' : files.length === 0 ? 'empty' : 'ready'}>
      <h2 id="files-heading">Your files</h2>
      {files?.length === 0 && <p>No files yet. Drop some above.</p>}
      <ul className="gallery-grid" aria-label="Your files">
        {files?.map((file) => <FileCard key={file.id} file={file} client={client} api={api} onChange={onChange} onError={onError} />)}
      </ul>
      {next && <button type="button" onClick={() => void more()}>Show older files</button>}
    </section>
  );
}
