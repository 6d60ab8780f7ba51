// Single sign-on with the team's OpenID Connect provider: the issuer and
// client (the secret is only ever written), the role a person gets (a default,
// or by the provider's groups), and "SSO required" with a break-glass owner.
// Owners change it; admins see it. The server checks the issuer by discovery.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Page, type Schemas } from '../api';

type View = Schemas['SsoView'];
type Member = Schemas['MemberView'];
type Role = 'viewer' | 'editor' | 'admin';
type FieldError = { path: string; message: string };

/** "group = role" lines to a mapping, and back. */
function parseGroups(text: string): Record<string, Role> {
  const out: Record<string, Role> = {};
  for (const line of text.split('\n')) {
    const [group, role] = line.split('=').map((s) => s.trim());
    if (group) out[group] = (role || 'viewer') as Role;
  }
  return out;
}
const showGroups = (m: Record<string, string> | undefined) => Object.entries(m ?? {}).map(([g, r]) => `${g} = ${r}`).join('\n');

export function SingleSignOn({ isOwner }: { isOwner: boolean }) {
  const [view, setView] = useState<View | null>(null);
  const [owners, setOwners] = useState<Member[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [issuer, setIssuer] = useState('');
  const [clientId, setClientId] = useState('');
  const [secret, setSecret] = useState('');
  const [scopes, setScopes] = useState('email profile');
  const [defaultRole, setDefaultRole] = useState('');
  const [groupsClaim, setGroupsClaim] = useState('');
  const [groups, setGroups] = useState('');
  const [required, setRequired] = useState(false);
  const [breakGlass, setBreakGlass] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldError[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const fill = (v: View | null) => {
    setView(v);
    if (!v) return;
    setIssuer(v.issuer); setClientId(v.client_id); setSecret('');
    setScopes((v.scopes ?? []).join(' ')); setDefaultRole(v.default_role ?? '');
    setGroupsClaim(v.groups_claim ?? ''); setGroups(showGroups(v.group_roles));
    setRequired(Boolean(v.required)); setBreakGlass(v.break_glass_account_id ?? '');
  };
  const load = async () => {
    try { fill(await call<View>('GET', '/v1/admin/sso')); } catch (e) {
      if (!(e instanceof ApiError && e.code === 'not_found')) throw e;
      fill(null);
    }
    const members = (await call<Page<Member>>('GET', '/v1/admin/members')).items;
    setOwners(members.filter((m) => m.role === 'owner'));
    setLoaded(true);
  };
  useEffect(() => { load().catch((e) => setError(e instanceof ApiError ? e.message : String(e))); }, []);

  const act = async (done: string, fn: () => Promise<void>) => {
    setBusy(true); setError(null); setFields([]); setNote(null);
    try { await fn(); setNote(done); } catch (e) {
      if (e instanceof ApiError && e.code === 'validation_failed') {
        setFields((e.details?.fields as FieldError[]) ?? []);
        setError('Some fields need attention.');
      } else setError(e instanceof ApiError ? e.message : String(e));
    } finally { setBusy(false); }
  };
  const save = (e: Event) => {
    e.preventDefault();
    void act('Single sign-on saved.', async () => {
      const body: Record<string, unknown> = {
        issuer: issuer.trim(), client_id: clientId.trim(),
        scopes: scopes.split(/\s+/).filter(Boolean),
        default_role: defaultRole || null,
        groups_claim: groupsClaim.trim() || null,
        group_roles: parseGroups(groups),
        required,
        break_glass_account_id: required ? breakGlass || null : null,
      };
      if (secret) body.client_secret = secret;
      fill(await call<View>('PUT', '/v1/admin/sso', body));
    });
  };
  const off = () => {
    if (!confirm('Turn single sign-on off? Members sign in with passwords again.')) return;
    void act('Single sign-on is off.', async () => { await call('DELETE', '/v1/admin/sso'); fill(null); });
  };
  const err = (path: string) => fields.filter((f) => f.path === path || f.path.startsWith(`${path}[`));
  const invalid = (path: string) => (err(path).length ? 'true' : undefined);
  const errors = (path: string) => err(path).map((f) => <p class="error" id={`sso-${path}-error`}>{f.message}</p>);
  if (!loaded) return error ? <p class="error" role="alert">{error}</p> : null;

  return (
    <section aria-labelledby="sso-title">
      <h2 id="sso-title">Single sign-on</h2>
      <p class="hint">{view ? `On, through ${view.issuer}.` : 'Off: members sign in with e-mail and password.'} {isOwner ? '' : 'Only an owner changes this.'}</p>
      {view && (
        <dl class="facts">
          <dt>Team ID (members type it on the sign-in page)</dt><dd><code>{view.sign_in_url.match(/sso\/([0-9a-f-]{36})\//)?.[1]}</code></dd>
          <dt>Redirect URI to register at the provider</dt><dd><code data-testid="sso-redirect-uri">{view.redirect_uri}</code></dd>
          <dt>Sign-in link for members</dt><dd><code data-testid="sso-sign-in-url">{view.sign_in_url}</code></dd>
        </dl>
      )}
      {note && <p class="ok" role="status">{note}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <form onSubmit={save} noValidate>
        <fieldset disabled={!isOwner || busy}>
          <label for="sso-issuer">Issuer URL (its discovery document is at /.well-known/openid-configuration)</label>
          <input id="sso-issuer" type="url" required value={issuer} aria-invalid={invalid('issuer')} onInput={(e) => setIssuer((e.target as HTMLInputElement).value)} />
          {errors('issuer')}
          <label for="sso-client-id">Client ID</label>
          <input id="sso-client-id" required value={clientId} aria-invalid={invalid('client_id')} onInput={(e) => setClientId((e.target as HTMLInputElement).value)} />
          {errors('client_id')}
          <label for="sso-client-secret">Client secret{view?.client_secret_set ? ' (saved; leave empty to keep it)' : ''}</label>
          <input id="sso-client-secret" type="password" autoComplete="off" value={secret} aria-invalid={invalid('client_secret')} onInput={(e) => setSecret((e.target as HTMLInputElement).value)} />
          {errors('client_secret')}
          <label for="sso-scopes">Scopes besides openid, separated by spaces</label>
          <input id="sso-scopes" value={scopes} aria-invalid={invalid('scopes')} onInput={(e) => setScopes((e.target as HTMLInputElement).value)} />
          {errors('scopes')}
          <label for="sso-default-role">Role of a new person whose groups grant none</label>
          <select id="sso-default-role" value={defaultRole} onChange={(e) => setDefaultRole((e.target as HTMLSelectElement).value)}>
            <option value="">Nobody: refuse them</option><option value="viewer">Viewer</option><option value="editor">Editor</option><option value="admin">Admin</option>
          </select>
          <label for="sso-groups-claim">Groups claim in the ID token (e.g. groups)</label>
          <input id="sso-groups-claim" value={groupsClaim} aria-invalid={invalid('groups_claim')} onInput={(e) => setGroupsClaim((e.target as HTMLInputElement).value)} />
          {errors('groups_claim')}
          <label for="sso-groups">Group = role, one per line (viewer, editor or admin; the highest wins)</label>
          <textarea id="sso-groups" value={groups} aria-invalid={invalid('group_roles')} onInput={(e) => setGroups((e.target as HTMLTextAreaElement).value)} />
          {errors('group_roles')}
          <p class="hint">With groups mapped, the role of a member single sign-on made follows their groups at every sign-in, and their membership ends when the groups grant no role.</p>
          <label class="field check">
            <input type="checkbox" checked={required} onChange={(e) => setRequired((e.target as HTMLInputElement).checked)} />
            Require single sign-on (password sign-in is refused and password sessions end)
          </label>
          {required && (
            <>
              <label for="sso-break-glass">Break-glass owner (may still sign in with a password)</label>
              <select id="sso-break-glass" value={breakGlass} aria-invalid={invalid('break_glass_account_id')} onChange={(e) => setBreakGlass((e.target as HTMLSelectElement).value)}>
                <option value="">Choose an owner</option>
                {owners.map((o) => <option value={o.account_id}>{o.email}</option>)}
              </select>
              {errors('break_glass_account_id')}
            </>
          )}
          <div class="row">
            <button type="submit" class="primary">{busy ? 'Checking the provider…' : 'Save single sign-on'}</button>
            {view && <button type="button" class="danger" onClick={off}>Turn single sign-on off</button>}
          </div>
        </fieldset>
      </form>
    </section>
  );
}
