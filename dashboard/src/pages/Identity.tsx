// Identity verification per environment (HS256 secrets, a JWKS URL or a
// static public key; off, monitor or enforce — with monitor mode's figures:
// how many requests enforcing would refuse, and why) and who counts as an
// in-app admin (user ids, a JWT permission or role claim, or any/all of several).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, type Schemas } from '../api';

type Settings = Schemas['SettingsView'];
type Monitor = Schemas['MonitorView'];
type FieldError = { path: string; message: string };
type Strategy = { strategy: string; user_ids?: string[]; claim?: string; permission?: string; role?: string; mode?: string; strategies?: Strategy[] };

const REASONS: Record<string, string> = {
  unverified: 'a user id without a valid token', anonymous: 'anonymous users', malformed: 'a malformed Authorization header',
  subject_mismatch: 'a token for another user', expired: 'an expired token', keys_unavailable: 'keys could not be fetched',
};

export function Identity({ settings, onSaved }: { settings: Settings; onSaved: () => void }) {
  const [env, setEnv] = useState('production');
  const current = settings.identity_verification[env];
  const m = current?.method as { type: string; url?: string; algorithm?: string; pem?: string } | undefined;
  const [method, setMethod] = useState<string>(m?.type ?? 'none');
  const [mode, setMode] = useState<string>(current?.mode ?? 'off');
  const [jwks, setJwks] = useState(m?.url ?? '');
  const [algorithm, setAlgorithm] = useState(m?.algorithm ?? 'rs256');
  const [pem, setPem] = useState(m?.pem ?? '');
  const [secret, setSecret] = useState('');
  const [issuer, setIssuer] = useState(current?.issuer ?? '');
  const [audience, setAudience] = useState(current?.audience ?? '');
  const [monitor, setMonitor] = useState<Monitor | null>(null);
  const [admin, setAdmin] = useState<Strategy>(settings.admin_detection as Strategy);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [note, setNote] = useState<string | null>(null);
  // Switching environment, or a save that changed this environment's stored
  // settings, shows them; a reload that left them as they were (the kill switch,
  // origins), and the first render's effect, keep what is being typed.
  const stored = `${env}\n${JSON.stringify(current ?? null)}`;
  const shown = useRef(stored);
  useEffect(() => {
    if (shown.current === stored) return;
    shown.current = stored;
    const c = settings.identity_verification[env];
    const mm = c?.method as { type: string; url?: string; algorithm?: string; pem?: string } | undefined;
    setMethod(mm?.type ?? 'none'); setMode(c?.mode ?? 'off'); setJwks(mm?.url ?? ''); setAlgorithm(mm?.algorithm ?? 'rs256'); setPem(mm?.pem ?? '');
    setIssuer(c?.issuer ?? ''); setAudience(c?.audience ?? ''); setSecret('');
  }, [stored]);
  useEffect(() => {
    call<Monitor>('GET', `/v1/admin/settings/identity-monitor?environment=${env}&hours=24`).then(setMonitor, () => setMonitor(null));
  }, [env, settings]);
  const save = async (patch: Record<string, unknown>, done: string) => {
    setErrors([]); setNote(null);
    try { await call('PATCH', '/v1/admin/settings', patch); setNote(done); onSaved(); return true; } catch (e) {
      setErrors(e instanceof ApiError ? ((e.details?.fields as FieldError[]) ?? [{ path: '', message: e.message }]) : [{ path: '', message: String(e) }]);
      return false;
    }
  };
  const verification = async () => {
    const mth = method === 'jwks' ? { type: 'jwks', url: jwks.trim() } : method === 'public_key' ? { type: 'public_key', algorithm, pem: pem.trim() } : { type: method };
    const patch: Record<string, unknown> = { mode, method: mth, issuer: issuer.trim() || undefined, audience: audience.trim() || undefined };
    if (method === 'hs256' && secret) patch.hs256_secrets = [secret];
    // A secret is never kept in the form once it is saved.
    if (await save({ identity_verification: { [env]: patch } }, `Identity verification saved for ${env}.`)) setSecret('');
  };
  const input = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  return (
    <>
      <h2>Identity verification</h2>
      {note && <p class="ok" role="status">{note}</p>}
      {errors.map((e) => <p class="error" role="alert">{e.path ? `${e.path}: ` : ''}{e.message}</p>)}
      <form onSubmit={(e) => { e.preventDefault(); void verification(); }}>
        <label for="iv-env">Environment</label>
        <select id="iv-env" value={env} onChange={input(setEnv)}>
          {Object.keys(settings.identity_verification).concat(['production', 'staging']).filter((v, i, a) => a.indexOf(v) === i).map((n) => <option value={n}>{n}</option>)}
        </select>
        <label for="iv-method">Method</label>
        <select id="iv-method" value={method} onChange={input(setMethod)}>
          <option value="none">None</option><option value="hs256">Shared secret (HS256)</option><option value="jwks">JWKS URL</option><option value="public_key">Public key (PEM)</option>
        </select>
        {method === 'jwks' && (<><label for="iv-jwks">JWKS URL</label><input id="iv-jwks" value={jwks} onInput={input(setJwks)} /></>)}
        {method === 'hs256' && (<><label for="iv-secret">New secret (32+ characters; {current?.hs256_secrets_configured ?? 0} set, never shown)</label><input id="iv-secret" type="password" autoComplete="off" value={secret} onInput={input(setSecret)} /></>)}
        {method === 'public_key' && (
          <>
            <label for="iv-alg">Algorithm</label>
            <select id="iv-alg" value={algorithm} onChange={input(setAlgorithm)}><option value="rs256">RS256</option><option value="es256">ES256</option><option value="ed_dsa">EdDSA</option></select>
            <label for="iv-pem">Public key (PEM)</label>
            <textarea id="iv-pem" class="code" rows={5} spellcheck={false} placeholder="-----BEGIN PUBLIC KEY-----" value={pem} onInput={input(setPem)} />
          </>
        )}
        <label for="iv-issuer">Issuer (iss)</label><input id="iv-issuer" value={issuer} onInput={input(setIssuer)} />
        <label for="iv-aud">Audience (aud)</label><input id="iv-aud" value={audience} onInput={input(setAudience)} />
        <label for="iv-mode">Mode</label>
        <select id="iv-mode" value={mode} onChange={input(setMode)}>
          <option value="off">Off: verify tokens when sent</option><option value="monitor">Monitor: count what enforcing would refuse</option><option value="enforce">Enforce: refuse unverified user ids</option>
        </select>
        <button type="submit" class="primary">Save identity verification</button>
      </form>
      {monitor && (mode === 'monitor' || monitor.checked > 0) && (
        <div class="monitor" role="group" aria-label="Monitor figures">
          <h3>Monitor, last {monitor.hours} hours ({env})</h3>
          <p><strong>{monitor.would_refuse}</strong> of {monitor.checked} SDK requests would be refused by enforcing
            {monitor.checked > 0 ? ` (${((monitor.would_refuse / monitor.checked) * 100).toFixed(1)} %)` : ''}.</p>
          {Object.keys(monitor.by_reason).length > 0 && (
            <ul>{Object.entries(monitor.by_reason).map(([r, n]) => <li key={r}>{n} × {REASONS[r] ?? r.replace(/_/g, ' ')}</li>)}</ul>
          )}
        </div>
      )}
      <h2>In-app admins</h2>
      <form onSubmit={(e) => { e.preventDefault(); void save({ admin_detection: clean(admin) }, 'Admin detection saved.'); }}>
        <StrategyFields id="ad" label="Who gets the in-page editor" value={admin} onChange={setAdmin} composite />
        <button type="submit" class="primary">Save admin detection</button>
      </form>
    </>
  );
}

function clean(s: Strategy): Strategy {
  switch (s.strategy) {
    case 'table': return { strategy: 'table', user_ids: (s.user_ids ?? []).map((x) => x.trim()).filter(Boolean) };
    case 'jwt_permission': return { strategy: 'jwt_permission', claim: s.claim ?? 'permissions', permission: s.permission ?? '' };
    case 'jwt_role': return { strategy: 'jwt_role', claim: s.claim ?? 'role', role: s.role ?? '' };
    case 'composite': return { strategy: 'composite', mode: s.mode ?? 'any', strategies: (s.strategies ?? []).map(clean) };
    default: return { strategy: 'none' };
  }
}

function StrategyFields({ id, label, value: s, onChange, composite }: { id: string; label: string; value: Strategy; onChange: (s: Strategy) => void; composite?: boolean }) {
  const text = (e: Event) => (e.target as HTMLInputElement).value;
  const pick = (strategy: string): Strategy => strategy === 'composite' ? { strategy, mode: 'any', strategies: [{ strategy: 'table', user_ids: [] }, { strategy: 'jwt_role', claim: 'role', role: 'admin' }] }
    : strategy === 'jwt_permission' ? { strategy, claim: 'permissions', permission: '' } : strategy === 'jwt_role' ? { strategy, claim: 'role', role: 'admin' } : strategy === 'table' ? { strategy, user_ids: [] } : { strategy };
  return (
    <>
      <label for={`${id}-strategy`}>{label}</label>
      <select id={`${id}-strategy`} value={s.strategy} onChange={(e) => onChange(pick(text(e)))}>
        <option value="none">Nobody</option><option value="table">These user ids</option><option value="jwt_permission">A JWT permission</option><option value="jwt_role">A JWT role</option>
        {composite && <option value="composite">Several rules</option>}
      </select>
      {s.strategy === 'table' && (<><label for={`${id}-ids`}>User ids, one per line</label><textarea id={`${id}-ids`} value={(s.user_ids ?? []).join('\n')} onInput={(e) => onChange({ ...s, user_ids: text(e).split('\n') })} /></>)}
      {(s.strategy === 'jwt_permission' || s.strategy === 'jwt_role') && (
        <>
          <label for={`${id}-claim`}>Claim</label><input id={`${id}-claim`} value={s.claim ?? ''} onInput={(e) => onChange({ ...s, claim: text(e) })} />
          <label for={`${id}-value`}>{s.strategy === 'jwt_role' ? 'Role' : 'Permission'}</label>
          <input id={`${id}-value`} value={(s.strategy === 'jwt_role' ? s.role : s.permission) ?? ''} onInput={(e) => onChange(s.strategy === 'jwt_role' ? { ...s, role: text(e) } : { ...s, permission: text(e) })} />
        </>
      )}
      {s.strategy === 'composite' && (
        <fieldset>
          <legend>Rules</legend>
          <label for={`${id}-mode`}>An end user is an admin when</label>
          <select id={`${id}-mode`} value={s.mode ?? 'any'} onChange={(e) => onChange({ ...s, mode: text(e) })}><option value="any">any rule matches</option><option value="all">every rule matches</option></select>
          {(s.strategies ?? []).map((sub, i) => (
            <div class="rule" key={i}>
              <StrategyFields id={`${id}-${i}`} label={`Rule ${i + 1}`} value={sub} onChange={(v) => onChange({ ...s, strategies: (s.strategies ?? []).map((x, j) => (j === i ? v : x)) })} />
              <button type="button" onClick={() => onChange({ ...s, strategies: (s.strategies ?? []).filter((_, j) => j !== i) })}>Remove rule {i + 1}</button>
            </div>
          ))}
          <button type="button" onClick={() => onChange({ ...s, strategies: [...(s.strategies ?? []), { strategy: 'table', user_ids: [] }] })}>Add rule</button>
        </fieldset>
      )}
    </>
  );
}
