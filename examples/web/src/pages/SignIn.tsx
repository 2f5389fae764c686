import { useState } from 'react';

/** A pasted token: `cargo run -- token --email you@example.com` makes one. */
export function SignIn({ onSignIn }: { onSignIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  return (
    <section>
      <h1>Sign in</h1>
      <p>
        Paste a token. On a local server, <code>cargo run -- token --email you@example.com</code>{' '}
        prints one.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) onSignIn(token.trim());
        }}
      >
        <textarea
          aria-label="Token"
          rows={4}
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <p>
          <button type="submit">Sign in</button>
        </p>
      </form>
    </section>
  );
}
