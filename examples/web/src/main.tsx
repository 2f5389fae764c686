import { StrictMode, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'urql';

import { emailOf, makeClient } from './client';
import { SignIn } from './pages/SignIn';
import { Workspaces } from './pages/Workspaces';
import { WorkspacePage } from './pages/Workspace';
import { Received } from './pages/Received';

/** `#/workspaces`, `#/workspaces/<id>`, `#/received`. */
function useRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function App() {
  const [token, setToken] = useState(() => localStorage.getItem('token') ?? '');
  const route = useRoute();
  const session = useMemo(() => (token ? makeClient(token) : null), [token]);
  useEffect(() => () => session?.dispose(), [session]);

  const signIn = (t: string) => {
    localStorage.setItem('token', t);
    setToken(t);
    window.location.hash = '#/workspaces';
  };
  const signOut = () => {
    localStorage.removeItem('token');
    setToken('');
  };
  if (!session) {
    return (
      <main>
        <SignIn onSignIn={signIn} />
      </main>
    );
  }
  const [page, id] = route;
  const link = (href: string, label: string, current: boolean) => (
    <a href={href} aria-current={current ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <Provider value={session.client}>
      <header>
        <nav>
          {link('#/workspaces', 'My workspaces', page !== 'received')}
          {link('#/received', 'Received invitations', page === 'received')}
        </nav>
        <span data-testid="signed-in-as">{emailOf(token)}</span>
        <button onClick={signOut}>Sign out</button>
      </header>
      <main>
        {page === 'received' ? (
          <Received />
        ) : page === 'workspaces' && id ? (
          <WorkspacePage id={id} />
        ) : (
          <Workspaces />
        )}
      </main>
    </Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
