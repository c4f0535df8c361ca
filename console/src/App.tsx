import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, type ReactNode } from 'react';
import { Link, Redirect, Route, Switch, useLocation } from 'wouter';
import { api } from './api.js';
import { Loading, ProblemAlert } from './components/ui.js';
import { Safe } from './components/Safe.js';
import { may } from './lib/roles.js';
import { problemOf } from './lib/problem.js';
import { ExceptionsPage } from './pages/Exceptions.js';
import { FindingsPage } from './pages/Findings.js';
import { InboxPage } from './pages/Inbox.js';
import { LogPage } from './pages/Log.js';
import { NewRequestPage } from './pages/NewRequest.js';
import { RequestPage } from './pages/Request.js';
import { SignInPage } from './pages/SignIn.js';
import { TimelinePage } from './pages/Timeline.js';
import { SessionContext, useSession, useSessionQuery } from './session.js';

function NavLink({ href, children }: { readonly href: string; readonly children: ReactNode }) {
  const [location] = useLocation();
  const current = location === href || (href !== '/' && location.startsWith(`${href}/`));
  return (
    <Link href={href} aria-current={current ? 'page' : undefined}>
      {children}
    </Link>
  );
}

function Header() {
  const session = useSession();
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const signOut = useMutation({
    mutationFn: api.signOut,
    onSettled: () => {
      client.clear();
      navigate('/sign-in');
    },
  });
  const roles = session.principal.roles;
  return (
    <header className="header">
      <div className="brand">
        <Link href="/inbox">countersign</Link>
      </div>
      <nav aria-label="Main">
        <ul>
          <li>
            <NavLink href="/inbox">Inbox</NavLink>
          </li>
          {may(roles, 'POST /v1/requests') && (
            <li>
              <NavLink href="/requests/new">New request</NavLink>
            </li>
          )}
          {may(roles, 'GET /v1/findings') && (
            <li>
              <NavLink href="/findings">Findings</NavLink>
            </li>
          )}
          {may(roles, 'GET /v1/reports/exceptions') && (
            <li>
              <NavLink href="/exceptions">Exceptions</NavLink>
            </li>
          )}
          <li>
            <NavLink href="/log">Log</NavLink>
          </li>
        </ul>
      </nav>
      <div className="who" data-testid="session">
        <span>
          {'Signed in as '}
          <strong>
            <Safe v={session.principal.id} />
          </strong>
          <span className="muted">
            {` (${roles.join(', ') || 'no role'}; ${session.principal.via === 'oidc' ? 'OIDC' : 'dev token'})`}
          </span>
        </span>
        <button type="button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function SignedIn({ children }: { readonly children: ReactNode }) {
  const { data, error, isPending, isFetching } = useSessionQuery();
  const [location, navigate] = useLocation();
  useEffect(() => {
    if (!isPending && !isFetching && data === null) {
      navigate(`/sign-in?returnTo=${encodeURIComponent(location)}`);
    }
  }, [isPending, isFetching, data, location, navigate]);
  if (isPending)
    return (
      <main id="main">
        <Loading what="your session" />
      </main>
    );
  if (error)
    return (
      <main id="main">
        <ProblemAlert problem={problemOf(error)} />
      </main>
    );
  if (data === null) return null;
  return (
    <SessionContext.Provider value={data}>
      <Header />
      <main id="main" className="main">
        {children}
      </main>
      <footer className="footer muted">
        <p>
          Every digest and proof marked “checked in your browser” was computed by this page, not
          taken from the server.
        </p>
      </footer>
    </SessionContext.Provider>
  );
}

export function App() {
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Switch>
        <Route path="/sign-in">
          <SignInPage />
        </Route>
        <Route>
          <SignedIn>
            <Switch>
              <Route path="/">
                <Redirect to="/inbox" />
              </Route>
              <Route path="/inbox">
                <InboxPage />
              </Route>
              <Route path="/requests/new">
                <NewRequestPage />
              </Route>
              <Route path="/requests/:id/timeline">{(p) => <TimelinePage rawId={p.id} />}</Route>
              <Route path="/requests/:id">{(p) => <RequestPage rawId={p.id} />}</Route>
              <Route path="/findings">
                <FindingsPage />
              </Route>
              <Route path="/exceptions">
                <ExceptionsPage />
              </Route>
              <Route path="/log">
                <LogPage />
              </Route>
              <Route>
                <h1>Not found</h1>
                <p>
                  There is no page here. <Link href="/inbox">Go to the inbox</Link>.
                </p>
              </Route>
            </Switch>
          </SignedIn>
        </Route>
      </Switch>
    </>
  );
}
