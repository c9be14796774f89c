import { useCallback, useEffect, useMemo, useState } from 'react';
import { createClient, type UploadRoute } from '@upfront/client';
import { createUploadQueue } from '@upfront/client/queue';
import { UpfrontProvider } from '@upfront/react';
import { createApi } from './api.ts';
import { Gallery } from './Gallery.tsx';
import { ProblemMessage } from './ProblemMessage.tsx';
import { isSessionEnd, problemOf, type Problem } from './problem.ts';
import type { Session } from './session.ts';
import type { PageSettings } from './settings.ts';
import { Uploader } from './Uploader.tsx';
import { UsagePanel } from './UsagePanel.tsx';

interface WorkspaceProps {
  settings: PageSettings;
  session: Session;
  onSessionEnd(why: Problem): void;
}

/** The signed-in page: uploads, the gallery and usage, sharing one client, one queue and one refresh counter. */
export function Workspace({ settings, session, onSessionEnd }: WorkspaceProps) {
  const client = useMemo(() => createClient({ endpoint: settings.apiUrl, token: () => session.token }), [settings.apiUrl, session.token]);
  const queue = useMemo(() => createUploadQueue(client, { concurrency: 3 }), [client]);
  const api = useMemo(() => createApi(settings.apiUrl, () => session.token), [settings.apiUrl, session.token]);
  const [routes, setRoutes] = useState<UploadRoute[]>();
  const [problem, setProblem] = useState<Problem>();
  // Bumped whenever the user's files change (an upload done, a delete, a restore): the gallery and usage reload.
  const [revision, setRevision] = useState(0);
  const changed = useCallback(() => setRevision((n) => n + 1), []);

  /** Shows an error; a 401 ends the session instead (the token expired or was revoked). */
  const fail = useCallback(
    (error: unknown) => {
      if (isSessionEnd(error)) onSessionEnd({ code: 'unauthorized', detail: 'Your session has ended. Sign in again.' });
      else setProblem(problemOf(error));
    },
    [onSessionEnd],
  );

  // Signing out stops the user's uploads rather than letting them run on with the old token (the queue
  // can only cancel them, which aborts them on the server).
  useEffect(() => () => queue.getSnapshot().items.forEach((item) => queue.remove(item.key)), [queue]);

  useEffect(() => {
    let current = true;
    client.listRoutes().then((listed) => current && setRoutes(listed), (error: unknown) => current && fail(error));
    return () => {
      current = false;
    };
  }, [client, fail]);

  return (
    <UpfrontProvider client={client}>
      {problem && (
        <div className="notice">
          <ProblemMessage problem={problem} />
          <button type="button" onClick={() => setProblem(undefined)}>Dismiss</button>
        </div>
      )}
      <UsagePanel api={api} revision={revision} onError={fail} />
      <Uploader queue={queue} routes={routes} onUploaded={changed} onError={fail} />
      <Gallery client={client} api={api} revision={revision} onChange={changed} onError={fail} />
    </UpfrontProvider>
  );
}
