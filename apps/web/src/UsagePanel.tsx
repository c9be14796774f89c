import { useEffect, useState } from 'react';
import type { Api, Usage } from './api.ts';
import { formatSize } from './format.ts';

/** The user's files and bytes against their limits (GET /v1/usage), reloaded when their files change. */
export function UsagePanel({ api, revision, onError }: { api: Api; revision: number; onError(error: unknown): void }) {
  const [usage, setUsage] = useState<Usage>();
  useEffect(() => {
    let current = true;
    api.usage().then((loaded) => current && setUsage(loaded), (error: unknown) => current && onError(error));
    return () => {
      current = false;
    };
  }, [api, revision, onError]);
  if (!usage) return null;
  const { bytes, files, reservedBytes, limits } = usage;
  return (
    <section className="usage" aria-label="Usage" data-bytes={bytes} data-files={files}>
      <p>
        You keep <strong>{files === 1 ? '1 file' : `${files} files`}</strong>
        {limits.files !== null && ` of ${limits.files}`}, <strong>{formatSize(bytes)}</strong>
        {limits.bytes !== null && ` of ${formatSize(limits.bytes)}`}
        {reservedBytes > 0 && ` (+${formatSize(reservedBytes)} held by uploads in progress)`}
      </p>
      {limits.bytes !== null && <meter aria-label="Storage used" min={0} max={limits.bytes} value={bytes + reservedBytes} />}
    </section>
  );
}
