import { useEffect, useState } from 'react';
import { problemOf, type Problem } from './problem.ts';
import { clearSession, loadSession, saveSession, type Session } from './session.ts';
import { finishOidcSignIn } from './oidc.ts';
import type { PageSettings } from './settings.ts';
import { SignIn } from './SignIn.tsx';
import { Workspace } from './Workspace.tsx';

export function App({ settings }: { settings: PageSettings }) {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const [problem, setProblem] = useState<Problem>();
  // Coming back from the identity provider: `?code&state` in this page's URL.
  const [returning, setReturning] = useState(() => settings.oidc !== undefined && /[?&](code|error)=/.test(location.search));

  useEffect(() => {
    if (!returning || !settings.oidc) return;
    let current = true;
    finishOidcSignIn(settings.oidc)
      .then((signedIn) => {
        if (!current || !signedIn) return;
        saveSession(signedIn);
        setSession(signedIn);
      })
      .catch((error: unknown) => current && setProblem(problemOf(error)))
      .finally(() => current && setReturning(false));
    return () => {
      current = false;
    };
  }, [returning, settings.oidc]);

  const signedIn = (next: Session) => {
    saveSession(next);
    setProblem(undefined);
    setSession(next);
  };
  const signOut = (why?: Problem) => {
    clearSession();
    setProblem(why);
    setSession(undefined);
  };

  return (
    <>
      <header>
        <h1>Upfront</h1>
        <p className="tagline">Files go straight from this page to storage.</p>
        {session && (
          <p className="session" aria-label="Session">
            Signed in as <strong data-testid="session-user">{session.user}</strong>{' '}
            <button type="button" onClick={() => signOut()}>Sign out</button>
          </p>
        )}
      </header>
      <main data-session={session ? 'signed-in' : returning ? 'signing-in' : 'signed-out'}>
        {session ? (
          <Workspace key={session.token} settings={settings} session={session} onSessionEnd={signOut} />
        ) : (
          <SignIn settings={settings} problem={problem} busy={returning} onSignedIn={signedIn} onProblem={setProblem} />
        )}
      </main>
    </>
  );
}
