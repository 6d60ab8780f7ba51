// Members and roles: add a teammate (a new account's password is shown once),
// change a role, remove. Owners only; the last owner cannot be removed.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Page, type Schemas } from '../api';

type Member = Schemas['MemberView'];
const ROLES = ['owner', 'admin', 'editor', 'viewer'];

export function Members({ isOwner, me }: { isOwner: boolean; me: string }) {
  const [members, setMembers] = useState<Member[]>([]);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('editor');
  const [password, setPassword] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => setMembers((await call<Page<Member>>('GET', '/v1/admin/members')).items);
  useEffect(() => { load().catch((e: unknown) => setError(String(e instanceof ApiError ? e.message : e))); }, []);
  const run = async (done: string, fn: () => Promise<unknown>) => {
    setNote(null); setError(null);
    try { await fn(); setNote(done); await load(); } catch (e) { setError(e instanceof ApiError ? e.message : String(e)); }
  };
  return (
    <section aria-labelledby="members-title" class="settings">
      <h1 id="members-title">Members</h1>
      {note && <p class="ok" role="status">{note}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {password && (
        <div class="secret" role="alert">
          <p>The new account's password. Share it safely now: it is shown only once.</p>
          <code>{password}</code>
          <button type="button" onClick={() => setPassword(null)}>Done</button>
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
      {isOwner && (
        <form class="row" onSubmit={(e) => { e.preventDefault(); void run('Member added.', async () => {
          const r = await call<{ password?: string }>('POST', '/v1/admin/members', { email: email.trim(), role });
          if (r.password) setPassword(r.password);
          setEmail('');
        }); }}>
          <input type="email" aria-label="E-mail of the new member" placeholder="teammate@example.com" value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
          <select aria-label="Role of the new member" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            {ROLES.map((r) => <option value={r}>{r}</option>)}
          </select>
          <button type="submit" class="primary">Add member</button>
        </form>
      )}
    </section>
  );
}
