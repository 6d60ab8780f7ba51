// Accepting an invitation (the link an owner sent: /app/accept#<token>). The
// invitee signs in with the invited address's password, or chooses one when
// the address is new here; then they are in the inviting team.
import { useState } from 'preact/hooks';
import { acceptInvitation, ApiError, type Me, type SecondFactor } from '../api';
import { SecondFactorField } from './SecondFactor';

export function Accept({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const token = location.hash.slice(1);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [second, setSecond] = useState<SecondFactor | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await acceptInvitation(token, password, second ?? {});
      history.replaceState({}, '', '/app/tours');
      onSignedIn(me);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'two_factor_required') {
        setSecond({});
        return;
      }
      setError(err instanceof ApiError ? err : new ApiError(0, 'unknown', String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="accept-title" noValidate>
        <h1 id="accept-title">Join your team on Spotlight</h1>
        {token ? (
          <>
            <p>Enter the password of the invited address — or, if you are new to Spotlight, choose one (at least 12 characters).</p>
            <label for="password">Password</label>
            <input id="password" type="password" autoComplete="current-password" required value={password}
              aria-invalid={error ? 'true' : undefined} aria-describedby={error ? 'accept-error' : undefined}
              onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
            {second && <SecondFactorField onChange={setSecond} />}
            {error && <p id="accept-error" class="error" role="alert">{error.message}</p>}
            <button type="submit" class="primary" disabled={busy}>{busy ? 'Joining…' : 'Accept invitation'}</button>
          </>
        ) : <p class="error" role="alert">This link holds no invitation. Ask for a new one.</p>}
      </form>
    </main>
  );
}
