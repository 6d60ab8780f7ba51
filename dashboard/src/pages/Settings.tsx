// Settings: API keys (create, rotate, revoke; a secret is shown once), allowed
// origins, the tenant kill switch and rate limits. Admins and owners only; the
// server enforces it whatever the UI shows.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, type Page, type Schemas } from '../api';
import { Identity } from './Identity';
import { SingleSignOn } from './SingleSignOn';

type Key = Schemas['KeyView'];
type Settings = Schemas['SettingsView'];
type FieldError = { path: string; message: string };

export function SettingsPage({ canAdmin, isOwner }: { canAdmin: boolean; isOwner: boolean }) {
  const [keys, setKeys] = useState<Key[]>([]);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [origins, setOrigins] = useState('');
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldError[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const [env, setEnv] = useState('production');
  const [kind, setKind] = useState('publishable');
  const [label, setLabel] = useState('');

  // The origins box shows the stored list again only when that list changed:
  // a reload after another action (a key revoked) must not wipe what is being typed.
  const storedOrigins = useRef<string | null>(null);
  const load = async () => {
    setKeys((await call<Page<Key>>('GET', '/v1/admin/keys?limit=100')).items);
    const s = await call<Settings>('GET', '/v1/admin/settings');
    setSettings(s);
    const stored = s.allowed_origins.join('\n');
    if (stored !== storedOrigins.current) {
      storedOrigins.current = stored;
      setOrigins(stored);
    }
  };
  useEffect(() => { if (canAdmin) load().catch(show); }, []);
  if (!canAdmin) return <p>Settings are for admins and owners of this tenant.</p>;

  function show(e: unknown) {
    if (e instanceof ApiError && e.code === 'validation_failed') {
      setFieldErrors((e.details?.fields as FieldError[]) ?? []);
      setError('Some fields need attention.');
      return;
    }
    setError(e instanceof ApiError ? e.message : String(e));
  }
  const run = async (done: string, fn: () => Promise<unknown>) => {
    setError(null); setFieldErrors([]); setNote(null);
    try { await fn(); setNote(done); await load(); } catch (e) { show(e); }
  };
  const created = (k: { key: Key; secret: string }) => setSecret({ label: `${k.key.kind} key “${k.key.label}” (${k.key.environment})`, value: k.secret });
  const originErrors = fieldErrors.filter((f) => f.path.startsWith('allowed_origins'));

  return (
    <section aria-labelledby="settings-title" class="settings">
      <h1 id="settings-title">Settings</h1>
      {note && <p class="ok" role="status">{note}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {secret && (
        <div class="secret" role="alert">
          <p>The new {secret.label}. Copy it now: it is shown only once.</p>
          <code>{secret.value}</code>
          <button type="button" onClick={() => { void navigator.clipboard?.writeText(secret.value); }}>Copy</button>
          <button type="button" onClick={() => setSecret(null)}>I have copied it</button>
        </div>
      )}

      <h2>Environments</h2>
      <p class="hint">Publish to staging, check, then promote to production. Each environment has its own keys, end users and identity verification.</p>
      <table>
        <thead><tr><th scope="col">Environment</th><th scope="col">Active publishable keys</th><th scope="col">Active secret keys</th><th scope="col">Identity verification</th></tr></thead>
        <tbody>{['production', 'staging'].concat(keys.map((k) => k.environment)).filter((v, i, a) => a.indexOf(v) === i).map((name) => (
          <tr key={name}><th scope="row">{name}</th>
            <td>{keys.filter((k) => k.environment === name && k.active && k.kind === 'publishable').length}</td>
            <td>{keys.filter((k) => k.environment === name && k.active && k.kind === 'secret').length}</td>
            <td>{settings?.identity_verification[name]?.mode ?? 'off'}</td></tr>
        ))}</tbody>
      </table>

      <h2>API keys</h2>
      <table>
        <thead><tr><th scope="col">Label</th><th scope="col">Kind</th><th scope="col">Environment</th><th scope="col">Prefix</th><th scope="col">State</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id}>
              <td>{k.label}</td><td>{k.kind}</td><td>{k.environment}</td><td><code>{k.prefix}…</code></td>
              <td>{k.active ? (k.expires_at ? `expires ${new Date(String(k.expires_at)).toLocaleString()}` : 'active') : 'revoked'}</td>
              <td>{k.active && (
                <div class="row">
                  <button type="button" onClick={() => run('Key rotated.', async () => created(await call<{ key: Key; secret: string }>('POST', `/v1/admin/keys/${k.id}/rotate`, { grace_seconds: 3600 })))}>Rotate (old key works 1 h)</button>
                  <button type="button" onClick={() => { if (confirm(`Revoke ${k.label}? Apps using it stop working at once.`)) void run('Key revoked.', () => call('POST', `/v1/admin/keys/${k.id}/revoke`)); }}>Revoke</button>
                </div>
              )}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="row" onSubmit={(e) => { e.preventDefault(); void run('Key created.', async () => created(await call<{ key: Key; secret: string }>('POST', '/v1/admin/keys', { kind, environment: env, label: label.trim() || `${kind} key` }))); }}>
        <select aria-label="Key kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
          <option value="publishable">Publishable (SDK)</option><option value="secret">Secret (server)</option>
        </select>
        <select aria-label="Key environment" value={env} onChange={(e) => setEnv((e.target as HTMLSelectElement).value)}>
          <option value="production">production</option><option value="staging">staging</option>
        </select>
        <input aria-label="Key label" placeholder="Label" value={label} onInput={(e) => setLabel((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary">Create key</button>
      </form>

      <h2>Allowed origins</h2>
      <form onSubmit={(e) => { e.preventDefault(); void run('Origins saved.', () => call('PATCH', '/v1/admin/settings', { allowed_origins: origins.split('\n').map((o) => o.trim()).filter(Boolean) })); }}>
        <label for="origins">One per line: https://app.example.com or https://*.example.com</label>
        <textarea id="origins" value={origins} aria-invalid={originErrors.length ? 'true' : undefined} onInput={(e) => setOrigins((e.target as HTMLTextAreaElement).value)} />
        {originErrors.map((f) => <p class="error">{f.path}: {f.message}</p>)}
        <button type="submit" class="primary">Save origins</button>
      </form>

      {settings && (
        <>
          <h2>Kill switch</h2>
          <p>{settings.kill_switch ? 'On: the SDK shows nothing for this tenant.' : 'Off: the SDK shows what is published.'}</p>
          <button type="button" class={settings.kill_switch ? 'primary' : 'danger'} aria-pressed={settings.kill_switch}
            onClick={() => run(settings.kill_switch ? 'Kill switch off.' : 'Kill switch on.', () => call('PATCH', '/v1/admin/settings', { kill_switch: !settings.kill_switch }))}>
            {settings.kill_switch ? 'Turn the kill switch off' : 'Turn the kill switch on'}
          </button>
          <h2>Publishing</h2>
          <Publishing key={JSON.stringify(settings.publishing)} settings={settings}
            save={(publishing) => run('Publishing rules saved.', () => call('PATCH', '/v1/admin/settings', { publishing }))} />
          <h2>Sign-in</h2>
          <label class="field check">
            <input type="checkbox" checked={settings.sign_in.require_two_factor} disabled={!isOwner}
              onChange={(e) => { const on = (e.target as HTMLInputElement).checked; void run(on ? 'Two-factor sign-in is now required.' : 'Two-factor sign-in is no longer required.', () => call('PATCH', '/v1/admin/settings', { sign_in: { require_two_factor: on } })); }} />
            Require two-factor sign-in for every member
          </label>
          <p class="hint">{isOwner ? 'Members without it are asked to set it up before anything else. Turn it on for yourself first (Security).' : 'Only an owner changes this.'}</p>
          <SingleSignOn isOwner={isOwner} />
          <Identity settings={settings} onSaved={() => { void load(); }} />
          <h2>Rate limits</h2>
          <RateLimits key={`${settings.rate_limits.sdk_per_minute}-${settings.rate_limits.admin_per_minute}`} limits={settings.rate_limits} errors={fieldErrors}
            save={(rate_limits) => run('Rate limits saved.', () => call('PATCH', '/v1/admin/settings', { rate_limits }))} />
          <h2>Data retention</h2>
          <Retention key={JSON.stringify(settings.retention)} settings={settings} errors={fieldErrors}
            save={(retention) => run('Retention saved.', () => call('PATCH', '/v1/admin/settings', { retention }))} />
        </>
      )}
    </section>
  );
}

function RateLimits({ limits, errors, save }: { limits: Settings['rate_limits']; errors: FieldError[]; save: (l: Settings['rate_limits']) => void }) {
  const [sdk, setSdk] = useState(String(limits.sdk_per_minute));
  const [admin, setAdmin] = useState(String(limits.admin_per_minute));
  const err = (p: string) => errors.filter((e) => e.path === `rate_limits.${p}`);
  return (
    <form onSubmit={(e) => { e.preventDefault(); save({ sdk_per_minute: Number(sdk), admin_per_minute: Number(admin) }); }}>
      <label for="rl-sdk">SDK requests a minute for this tenant (config and events)</label>
      <input id="rl-sdk" type="number" min={1} value={sdk} aria-invalid={err('sdk_per_minute').length ? 'true' : undefined} onInput={(e) => setSdk((e.target as HTMLInputElement).value)} />
      {err('sdk_per_minute').map((f) => <p class="error">{f.path}: {f.message}</p>)}
      <label for="rl-admin">Admin API requests a minute per key or session</label>
      <input id="rl-admin" type="number" min={1} value={admin} aria-invalid={err('admin_per_minute').length ? 'true' : undefined} onInput={(e) => setAdmin((e.target as HTMLInputElement).value)} />
      {err('admin_per_minute').map((f) => <p class="error">{f.path}: {f.message}</p>)}
      <button type="submit" class="primary">Save rate limits</button>
    </form>
  );
}

/** How long this tenant's events and audit entries are kept: the server's time, or less. */
function Retention({ settings, errors, save }: { settings: Settings; errors: FieldError[]; save: (r: Settings['retention']) => void }) {
  const { retention, retention_limits: max } = settings;
  const [events, setEvents] = useState(retention.events_days == null ? '' : String(retention.events_days));
  const [audit, setAudit] = useState(retention.audit_days == null ? '' : String(retention.audit_days));
  const err = (p: string) => errors.filter((e) => e.path === `retention.${p}`);
  const days = (v: string) => (v.trim() === '' ? null : Number(v));
  return (
    // The server says what is out of range, at the field, with its limit.
    <form noValidate onSubmit={(e) => { e.preventDefault(); save({ events_days: days(events), audit_days: days(audit) }); }}>
      <label for="ret-events">Days raw events (survey answers too) are kept; empty for the server's {max.events_days}</label>
      <input id="ret-events" type="number" min={1} max={max.events_days} placeholder={String(max.events_days)} value={events} aria-invalid={err('events_days').length ? 'true' : undefined} onInput={(e) => setEvents((e.target as HTMLInputElement).value)} />
      {err('events_days').map((f) => <p class="error">{f.path}: {f.message}</p>)}
      <label for="ret-audit">Days audit entries are kept; empty for the server's {max.audit_days}</label>
      <input id="ret-audit" type="number" min={1} max={max.audit_days} placeholder={String(max.audit_days)} value={audit} aria-invalid={err('audit_days').length ? 'true' : undefined} onInput={(e) => setAudit((e.target as HTMLInputElement).value)} />
      {err('audit_days').map((f) => <p class="error">{f.path}: {f.message}</p>)}
      <button type="submit" class="primary">Save retention</button>
    </form>
  );
}

/** Per environment: the least role that publishes there, and whether editors' publishes need approval. */
function Publishing({ settings, save }: { settings: Settings; save: (p: Settings['publishing']) => void }) {
  const envs = ['production', 'staging'];
  const initial = Object.fromEntries(envs.map((e) => [e, settings.publishing[e] ?? { publish_role: 'editor', requires_approval: false }]));
  const [rules, setRules] = useState(initial);
  const set = (env: string, patch: Partial<Settings['publishing'][string]>) => setRules({ ...rules, [env]: { ...rules[env]!, ...patch } });
  return (
    <form onSubmit={(e) => { e.preventDefault(); save(rules as Settings['publishing']); }}>
      <table>
        <thead><tr><th scope="col">Environment</th><th scope="col">Who publishes</th><th scope="col">Editors need approval</th></tr></thead>
        <tbody>{envs.map((env) => (
          <tr key={env}><th scope="row">{env}</th>
            <td><select aria-label={`Who publishes to ${env}`} value={rules[env]!.publish_role}
              onChange={(e) => set(env, { publish_role: (e.target as HTMLSelectElement).value as Settings['publishing'][string]['publish_role'] })}>
              <option value="editor">Editors and up</option><option value="admin">Admins and owners</option><option value="owner">Owners only</option>
            </select></td>
            <td><input type="checkbox" aria-label={`Editors need approval to publish to ${env}`} checked={rules[env]!.requires_approval}
              onChange={(e) => set(env, { requires_approval: (e.target as HTMLInputElement).checked })} /></td></tr>
        ))}</tbody>
      </table>
      <p class="hint">With approval, an editor's publish waits under Approvals until an admin or owner other than the requester approves that exact revision.</p>
      <button type="submit" class="primary">Save publishing rules</button>
    </form>
  );
}
