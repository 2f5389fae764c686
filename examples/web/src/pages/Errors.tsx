import type { CombinedError } from 'urql';

/** A request's error with its `extensions.code`, as the server sent it. */
export function ErrorLine({ error }: { error?: CombinedError }) {
  if (!error) return null;
  const codes = error.graphQLErrors.map((e) => e.extensions?.code).filter(Boolean);
  return (
    <p className="error" role="alert">
      {error.message}
      {codes.length ? ` (${codes.join(', ')})` : ''}
    </p>
  );
}
