// Members and roles: invite a teammate (the acceptance link is shown once;
// they join by accepting it), withdraw an invitation, change a role, remove.
// Owners only; the last owner cannot be removed.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Page, type Schemas } from '../api';

type Member = Schemas['MemberView'];
type Invitation = Schemas['InvitationView'];
const ROLES = ['owner', 'admin', 'editor', 'viewer'];

export function Members({ isOwner, me }: { isOwner: boolean; me: string }) {
  const [members, setMembers] = useState<Member[]>([]);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('editor');
  const [invitations, setInvitations] = useState<Invitation[]>([]);
  const [link, setLink] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    setMembers((await call<Page<Member>>('GET', '/v1/admin/members')).items);
    if (isOwner) setInvitations((await call<Page<Invitation>>('GET', '/v1/admin/invitations')).items);
  };
  useEffect(() => { load().catch((e: unknown) => setError(String(e instanceof ApiError ? e.message : e))); }, []);
  const run = async (done: string, fn: () => Promise<unknown>) => {
    setNote(null); setError(null);
    try { const said = await fn(); setNote(typeof said === 'string' ? said : done); await load(); } catch (e) { setError(e instanceof ApiError ? e.message : String(e)); }
  };
  return (
    <section aria-labelledby="members-title" class="settings">
      <h1 id="members-title">Members</h1>
      {note && <p class="ok" role="status">{note}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {link && (
        <div class="secret" role="alert">
          <p>Send this link to your teammate: they join by opening it and signing in (or choosing a password). It is shown only once and works for 7 days.</p>
          <code>{link}</code>
          <button type="button" onClick={() => setLink(null)}>Done</button>
        </div>
      )}
      <table>
        <thead><tr><th scope="col">E-mail</th><th scope="col">Role</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>{members.map((m) => (
          <tr key={m.account_id}>
            <td>{m.email}{m.email === me ? ' (you)' : ''}</td>
            <td>{isOwner ? (
              <select aria-label={`Role of ${m.email}`} value={m.role} onChange={(e) => { const r = (e.target as HTMLSelectElement).value; void run('Role changed.', () => call('PUT', `/v1/admin/members/${m.account_id}`, { role: r })); }}>
                {ROLES.map((r) => <option value={r}>{r}</option>)}
              </select>
            ) : m.role}</td>
            <td>{isOwner && m.email !== me && <button type="button" onClick={() => { if (confirm(`Remove ${m.email}?`)) void run('Member removed.', () => call('DELETE', `/v1/admin/members/${m.account_id}`)); }}>Remove</button>}</td>
          </tr>
        ))}</tbody>
      </table>
      {isOwner && invitations.length > 0 && (
        <>
          <h2>Invitations</h2>
          <table>
            <thead><tr><th scope="col">E-mail</th><th scope="col">Role</th><th scope="col">Expires</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
            <tbody>{invitations.map((i) => (
              <tr key={i.id}>
                <td>{i.email}</td>
                <td>{i.role}</td>
                <td>{new Date(i.expires_at).toLocaleDateString()}</td>
                <td><button type="button" onClick={() => void run('Invitation withdrawn.', () => call('DELETE', `/v1/admin/invitations/${i.id}`))}>Withdraw</button></td>
              </tr>
            ))}</tbody>
          </table>
        </>
      )}
      {isOwner && (
        <form class="row" onSubmit={(e) => { e.preventDefault(); const to = email.trim(); void run('Invitation created.', async () => {
          const r = await call<Schemas['Invited']>('POST', '/v1/admin/members', { email: to, role });
          setEmail('');
          // With mail set up the server mails the link and shows it to nobody.
          if (r.mailed) return `Invitation mailed to ${to}.`;
          if (r.accept_url) setLink(new URL(r.accept_url, location.origin).href);
          return undefined;
        }); }}>
          <input type="email" aria-label="E-mail of the new member" placeholder="teammate@example.com" value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
          <select aria-label="Role of the new member" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            {ROLES.map((r) => <option value={r}>{r}</option>)}
          </select>
          <button type="submit" class="primary">Invite</button>
        </form>
      )}
    </section>
  );
}
