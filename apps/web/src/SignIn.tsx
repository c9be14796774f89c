import { useState, type FormEvent } from 'react';
import { ProblemMessage } from './ProblemMessage.tsx';
import { startOidcSignIn } from './oidc.ts';
import { problemOf, type Problem } from './problem.ts';
import { devSignIn, type Session } from './session.ts';
import type { PageSettings } from './settings.ts';

interface SignInProps {
  settings: PageSettings;
  problem: Problem | undefined;
  busy: boolean;
  onSignedIn(session: Session): void;
  onProblem(problem: Problem): void;
}

/** Dev sign-in (any name) against the API, or the configured OpenID Connect provider. */
export function SignIn({ settings, problem, busy, onSignedIn, onProblem }: SignInProps) {
  const [working, setWorking] = useState(false);
  const run = async (action: () => Promise<void>) => {
    setWorking(true);
    try {
      await action();
    } catch (error) {
      onProblem(problemOf(error));
    } finally {
      setWorking(false);
    }
  };
  const submitDev = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const user = String(new FormData(event.currentTarget).get('user') ?? '').trim();
    void run(async () => onSignedIn(await devSignIn(settings.apiUrl, user)));
  };

  return (
    <section aria-labelledby="signin-heading">
      <h2 id="signin-heading">Sign in</h2>
      {settings.oidc ? (
        <p>
          <button type="button" disabled={working || busy} onClick={() => void run(() => startOidcSignIn(settings.oidc!))}>
            Sign in with {new URL(settings.oidc.issuer).host}
          </button>
        </p>
      ) : (
        <form onSubmit={submitDev}>
          <label htmlFor="signin-name">Your name (development sign-in)</label>
          <input id="signin-name" name="user" autoComplete="username" required maxLength={64} />
          <button type="submit" disabled={working}>Sign in</button>
        </form>
      )}
      {busy && <p role="status">Signing you in…</p>}
      {problem && <ProblemMessage problem={problem} />}
    </section>
  );
}
