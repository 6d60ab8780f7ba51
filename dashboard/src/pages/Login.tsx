// Sign in with e-mail and password, then a second factor when the account
// has one; or through the team's identity provider (single sign-on), by the
// team's ID (remembered in this browser). Errors are shown beside the form,
// the field the server names is marked, and a rate limit says how long to
// wait; a failed single sign-on comes back here with its reason.
import { useState } from 'preact/hooks';
import { ApiError, login, type Me, type SecondFactor } from '../api';
import { SecondFactorField } from './SecondFactor';

export function Login({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // Set once the server asks for the second factor.
  const [second, setSecond] = useState<SecondFactor | null>(null);
  const ssoError = new URLSearchParams(location.search).get('sso_error');
  const [team, setTeam] = useState(() => localStorage.getItem('spotlight.sso_team') ?? '');
  const [teamError, setTeamError] = useState<string | null>(null);
  const sso = (e: Event) => {
    e.preventDefault();
    const id = team.trim().toLowerCase();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
      setTeamError('A team ID looks like 0190a5c4-…: your owner finds it under Settings, Single sign-on.');
      return;
    }
    localStorage.setItem('spotlight.sso_team', id);
    const back = location.pathname.startsWith('/app/') ? `?return_to=${encodeURIComponent(location.pathname)}` : '';
    location.assign(`/v1/auth/sso/${id}/start${back}`);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await login(email.trim(), password, second ?? {}));
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
  const field = (name: string) => (error?.details && typeof error.details === 'object' && name in (error.details.fields as object ?? {})) || error?.code === 'invalid_credentials';
  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="login-title" noValidate>
        <h1 id="login-title">Sign in to Spotlight</h1>
        <label for="email">E-mail</label>
        <input id="email" type="email" autoComplete="username" required value={email}
          aria-invalid={field('email') ? 'true' : undefined} aria-describedby={error ? 'login-error' : undefined}
          onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
        <label for="password">Password</label>
        <input id="password" type="password" autoComplete="current-password" required value={password}
          aria-invalid={field('password') ? 'true' : undefined} aria-describedby={error ? 'login-error' : undefined}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        {second && <SecondFactorField onChange={setSecond} />}
        {error && <p id="login-error" class="error" role="alert">{error.message}</p>}
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing in…' : second ? 'Verify' : 'Sign in'}</button>
      </form>
      <form onSubmit={sso} aria-labelledby="sso-login-title" noValidate>
        <h2 id="sso-login-title">Single sign-on</h2>
        {ssoError && <p id="sso-error" class="error" role="alert">{ssoError}</p>}
        <label for="sso-team">Team ID</label>
        <input id="sso-team" autoComplete="organization" value={team} aria-invalid={teamError ? 'true' : undefined}
          aria-describedby={teamError ? 'sso-team-error' : undefined} onInput={(e) => { setTeam((e.target as HTMLInputElement).value); setTeamError(null); }} />
        {teamError && <p id="sso-team-error" class="error">{teamError}</p>}
        <button type="submit">Continue with single sign-on</button>
      </form>
    </main>
  );
}
