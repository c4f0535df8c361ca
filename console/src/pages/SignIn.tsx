import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useLocation, useSearch } from 'wouter';
import { api } from '../api.js';
import { Safe } from '../components/Safe.js';
import { Loading, ProblemAlert } from '../components/ui.js';
import { loginPath, safeReturnTo } from '../lib/paths.js';
import { problemOf } from '../lib/problem.js';
import { useAuthOptions } from '../session.js';

export function SignInPage() {
  const options = useAuthOptions();
  const search = useSearch();
  const query = new URLSearchParams(search);
  const returnTo = safeReturnTo(query.get('returnTo') ?? '/inbox');
  // The OIDC callback sends a failed sign-in back here with its problem code.
  const failed = query.get('error');
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const signIn = useMutation({
    mutationFn: api.devSignIn,
    onSuccess: async () => {
      // Forget the signed-out answer, so the next page asks again instead of bouncing back.
      client.removeQueries();
      navigate(returnTo === '/sign-in' || returnTo.startsWith('/sign-in?') ? '/inbox' : returnTo);
    },
  });
  useEffect(() => {
    document.title = 'Sign in · countersign';
  }, []);
  return (
    <main id="main" className="main narrow">
      <h1>Sign in to countersign</h1>
      {options.isPending && <Loading what="sign-in options" />}
      {options.error && <ProblemAlert problem={problemOf(options.error)} />}
      {signIn.error && <ProblemAlert problem={problemOf(signIn.error)} />}
      {failed !== null && (
        <p role="alert" className="alert alert-error">
          {'Sign-in at your identity provider did not complete ('}
          <Safe v={failed.slice(0, 64)} />
          {'). Nothing was signed in; try again.'}
        </p>
      )}
      {options.data && options.data.issuers.length > 0 && (
        <section aria-labelledby="sso">
          <h2 id="sso">Single sign-on</h2>
          <ul className="plain">
            {options.data.issuers.map((i) => (
              <li key={i.name}>
                <a className="button" href={loginPath(i.name, returnTo)}>
                  {'Sign in with '}
                  <Safe v={i.name} />
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
      {options.data?.dev === true && (
        <section aria-labelledby="dev">
          <h2 id="dev">Development principals</h2>
          <p className="muted">This server runs in dev mode: pick who you are.</p>
          <ul className="plain principals">
            {(options.data.devPrincipals ?? []).map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  onClick={() => signIn.mutate(p.id)}
                  disabled={signIn.isPending}
                >
                  {'Sign in as '}
                  <strong>
                    <Safe v={p.id} />
                  </strong>
                </button>
                <span className="muted">{` ${p.roles.join(', ') || 'no role'}`}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {options.data && !options.data.dev && options.data.issuers.length === 0 && (
        <p>No interactive sign-in is configured on this server.</p>
      )}
    </main>
  );
}
