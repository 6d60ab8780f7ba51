// Identity verification per environment (HS256 secrets, a JWKS URL or a public
// key; off, monitor or enforce) and who counts as an in-app admin (a table of
// user ids, or a JWT permission or role claim).
import { useState } from 'preact/hooks';
import { ApiError, call, type Schemas } from '../api';

type Settings = Schemas['SettingsView'];
type FieldError = { path: string; message: string };

export function Identity({ settings, onSaved }: { settings: Settings; onSaved: () => void }) {
  const [env, setEnv] = useState('production');
  const current = settings.identity_verification[env];
  const [method, setMethod] = useState<string>(current?.method.type ?? 'none');
  const [mode, setMode] = useState<string>(current?.mode ?? 'off');
  const [jwks, setJwks] = useState(current?.method.type === 'jwks' ? current.method.url : '');
  const [secret, setSecret] = useState('');
  const [issuer, setIssuer] = useState(current?.issuer ?? '');
  const [audience, setAudience] = useState(current?.audience ?? '');
  const ad = settings.admin_detection as { strategy: string; user_ids?: string[]; claim?: string; permission?: string; role?: string };
  const [strategy, setStrategy] = useState(ad.strategy);
  const [adminIds, setAdminIds] = useState((ad.user_ids ?? []).join('\n'));
  const [claim, setClaim] = useState(ad.claim ?? 'permissions');
  const [value, setValue] = useState(ad.permission ?? ad.role ?? '');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const save = async (patch: Record<string, unknown>, done: string) => {
    setErrors([]); setNote(null);
    try { await call('PATCH', '/v1/admin/settings', patch); setNote(done); onSaved(); } catch (e) {
      setErrors(e instanceof ApiError ? ((e.details?.fields as FieldError[]) ?? [{ path: '', message: e.message }]) : [{ path: '', message: String(e) }]);
    }
  };
  const verification = () => {
    const m = method === 'jwks' ? { type: 'jwks', url: jwks.trim() } : { type: method };
    const patch: Record<string, unknown> = { mode, method: m, issuer: issuer.trim() || undefined, audience: audience.trim() || undefined };
    if (method === 'hs256' && secret) patch.hs256_secrets = [secret];
    return save({ identity_verification: { [env]: patch } }, `Identity verification saved for ${env}.`);
  };
  const admins = () => save({
    admin_detection: strategy === 'table' ? { strategy, user_ids: adminIds.split('\n').map((x) => x.trim()).filter(Boolean) }
      : strategy === 'jwt_permission' ? { strategy, claim, permission: value }
      : strategy === 'jwt_role' ? { strategy, claim, role: value } : { strategy: 'none' },
  }, 'Admin detection saved.');
  return (
    <>
      <h2>Identity verification</h2>
      {note && <p class="ok" role="status">{note}</p>}
      {errors.map((e) => <p class="error" role="alert">{e.path ? `${e.path}: ` : ''}{e.message}</p>)}
      <form onSubmit={(e) => { e.preventDefault(); void verification(); }}>
        <label for="iv-env">Environment</label>
        <select id="iv-env" value={env} onChange={(e) => setEnv((e.target as HTMLSelectElement).value)}>
          {Object.keys(settings.identity_verification).concat(['production', 'staging']).filter((v, i, a) => a.indexOf(v) === i).map((n) => <option value={n}>{n}</option>)}
        </select>
        <label for="iv-method">Method</label>
        <select id="iv-method" value={method} onChange={(e) => setMethod((e.target as HTMLSelectElement).value)}>
          <option value="none">None</option><option value="hs256">Shared secret (HS256)</option><option value="jwks">JWKS URL</option>
        </select>
        {method === 'jwks' && (<><label for="iv-jwks">JWKS URL</label><input id="iv-jwks" value={jwks} onInput={(e) => setJwks((e.target as HTMLInputElement).value)} /></>)}
        {method === 'hs256' && (<><label for="iv-secret">New secret (32+ characters; {current?.hs256_secrets_configured ?? 0} set, never shown)</label><input id="iv-secret" type="password" autoComplete="off" value={secret} onInput={(e) => setSecret((e.target as HTMLInputElement).value)} /></>)}
        <label for="iv-issuer">Issuer (iss)</label><input id="iv-issuer" value={issuer} onInput={(e) => setIssuer((e.target as HTMLInputElement).value)} />
        <label for="iv-aud">Audience (aud)</label><input id="iv-aud" value={audience} onInput={(e) => setAudience((e.target as HTMLInputElement).value)} />
        <label for="iv-mode">Mode</label>
        <select id="iv-mode" value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value)}>
          <option value="off">Off: verify tokens when sent</option><option value="monitor">Monitor: count what enforcing would refuse</option><option value="enforce">Enforce: refuse unverified user ids</option>
        </select>
        <button type="submit" class="primary">Save identity verification</button>
      </form>
      <h2>In-app admins</h2>
      <form onSubmit={(e) => { e.preventDefault(); void admins(); }}>
        <label for="ad-strategy">Who gets the in-page editor</label>
        <select id="ad-strategy" value={strategy} onChange={(e) => setStrategy((e.target as HTMLSelectElement).value)}>
          <option value="none">Nobody</option><option value="table">These user ids</option><option value="jwt_permission">A JWT permission</option><option value="jwt_role">A JWT role</option>
        </select>
        {strategy === 'table' && (<><label for="ad-ids">User ids, one per line</label><textarea id="ad-ids" value={adminIds} onInput={(e) => setAdminIds((e.target as HTMLTextAreaElement).value)} /></>)}
        {(strategy === 'jwt_permission' || strategy === 'jwt_role') && (
          <>
            <label for="ad-claim">Claim</label><input id="ad-claim" value={claim} onInput={(e) => setClaim((e.target as HTMLInputElement).value)} />
            <label for="ad-value">{strategy === 'jwt_role' ? 'Role' : 'Permission'}</label><input id="ad-value" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
          </>
        )}
        <button type="submit" class="primary">Save admin detection</button>
      </form>
    </>
  );
}
