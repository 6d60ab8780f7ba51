// Your own sign-in: turn on two-factor sign-in (scan the QR code with an
// authenticator app, confirm with a code, keep the recovery codes shown
// once), make new recovery codes, or turn it off. When the tenant requires a
// second factor, this is the only page until it is on.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Schemas } from '../api';

type Status = Schemas['TwoFactorStatus'];
type Setup = Schemas['TwoFactorSetup'];

export function Security({ onChanged }: { onChanged: () => void }) {
  const [status, setStatus] = useState<Status | null>(null);
  const [setup, setSetup] = useState<Setup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const load = async () => setStatus(await call<Status>('GET', '/v1/auth/two-factor'));
  useEffect(() => { load().catch((e) => setError(String(e))); }, []);
  const run = async (fn: () => Promise<void>) => {
    setError(null);
    try { await fn(); } catch (e) { setError(e instanceof ApiError ? e.message : String(e)); }
  };
  if (!status) return <p class="loading">Loading…</p>;

  return (
    <section aria-labelledby="security-title" class="settings">
      <h1 id="security-title">Sign-in security</h1>
      {status.required && !status.enabled && (
        <p class="error" role="alert">This team requires two-factor sign-in. Turn it on to continue.</p>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {codes && (
        <div class="secret" role="status">
          <p>Your recovery codes. Keep them somewhere safe: each signs you in once if you lose your phone, and they are shown only now.</p>
          <ul class="codes" aria-label="Recovery codes">{codes.map((c) => <li key={c}>{c}</li>)}</ul>
          <button type="button" onClick={() => { void navigator.clipboard?.writeText(codes.join('\n')); }}>Copy</button>
          <button type="button" onClick={() => { setCodes(null); onChanged(); }}>I have saved them</button>
        </div>
      )}
      <h2>Two-factor sign-in</h2>
      {status.enabled ? (
        <>
          <p class="ok">On: signing in asks for a code from your authenticator app. {status.recovery_codes_left} recovery codes left.</p>
          <label for="current-code">Current code from the app (to turn it off, a recovery code works too)</label>
          <input id="current-code" autoComplete="one-time-code" spellcheck={false} value={code}
            onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
          <div class="row">
            <button type="button" onClick={() => run(async () => {
              const r = await call<{ recovery_codes: string[] }>('POST', '/v1/auth/two-factor/recovery-codes', { code });
              setCodes(r.recovery_codes); setCode(''); await load();
            })}>New recovery codes</button>
          </div>
          {status.required ? <p class="hint">Required by this team: an owner can lift that in Settings.</p> : (
            <form onSubmit={(e) => { e.preventDefault(); void run(async () => {
              await call('POST', '/v1/auth/two-factor/disable', { password, code });
              setPassword(''); setCode(''); await load(); onChanged();
            }); }}>
              <label for="current-password">Password</label>
              <input id="current-password" type="password" autoComplete="current-password" value={password}
                onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
              <button type="submit" class="danger">Turn off</button>
            </form>
          )}
        </>
      ) : setup ? (
        <form onSubmit={(e) => { e.preventDefault(); void run(async () => {
          const r = await call<{ recovery_codes: string[] }>('POST', '/v1/auth/two-factor/enable', { code });
          setSetup(null); setCode(''); setCodes(r.recovery_codes); await load();
        }); }}>
          <p>Scan this code with an authenticator app (1Password, Google Authenticator, Authy…), then enter the 6-digit code it shows.</p>
          <img class="qr" alt="QR code of your two-factor secret" src={`data:image/svg+xml;base64,${btoa(setup.qr_svg)}`} />
          <p class="hint">Cannot scan? Type this key: <code data-testid="totp-secret">{setup.secret}</code></p>
          <label for="enable-code">Code from the app</label>
          <input id="enable-code" inputMode="numeric" autoComplete="one-time-code" maxLength={7} required value={code}
            onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
          <button type="submit" class="primary">Turn on</button>
        </form>
      ) : (
        <>
          <p>Off: your password alone signs you in.</p>
          <button type="button" class="primary" onClick={() => run(async () => setSetup(await call<Setup>('POST', '/v1/auth/two-factor/setup')))}>
            Set up two-factor sign-in
          </button>
        </>
      )}
    </section>
  );
}
