// End-user lookup: a user's profile, attributes, event counts and progress per
// tour, announcement and checklist, in one environment.
import { useState } from 'preact/hooks';
import { ApiError, call, type Schemas } from '../api';

type EndUser = Schemas['EndUserView'];

export function Users() {
  const [id, setId] = useState(new URLSearchParams(location.search).get('id') ?? '');
  const [env, setEnv] = useState('production');
  const [user, setUser] = useState<EndUser | null>(null);
  const [error, setError] = useState<string | null>(null);
  const lookup = async (e?: Event) => {
    e?.preventDefault();
    setError(null);
    setUser(null);
    if (!id.trim()) return;
    try {
      setUser(await call<EndUser>('GET', `/v1/admin/users/${encodeURIComponent(id.trim())}?environment=${env}`));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 404 ? `No end user “${id.trim()}” in ${env}.` : err instanceof ApiError ? err.message : String(err));
    }
  };
  return (
    <section aria-labelledby="users-title">
      <form class="bar" onSubmit={lookup}>
        <h1 id="users-title">End users</h1>
        <input type="search" aria-label="User id" placeholder="User id" value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} />
        <select aria-label="Environment" value={env} onChange={(e) => setEnv((e.target as HTMLSelectElement).value)}>
          <option value="production">production</option><option value="staging">staging</option>
        </select>
        <button type="submit" class="primary">Look up</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {user && (
        <div class="profile">
          <dl class="kpis">
            <div><dt>User</dt><dd>{user.user_id}</dd></div>
            <div><dt>First seen</dt><dd>{new Date(String(user.first_seen)).toLocaleString()}</dd></div>
            <div><dt>Last seen</dt><dd>{new Date(String(user.last_seen)).toLocaleString()}</dd></div>
            <div><dt>Verified</dt><dd>{user.verified ? 'yes' : 'no'}</dd></div>
          </dl>
          <h2>Attributes</h2>
          {Object.keys(user.attributes).length === 0 ? <p>None.</p> : (
            <table><tbody>{Object.entries(user.attributes).map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td><code>{JSON.stringify(v)}</code></td></tr>)}</tbody></table>
          )}
          <h2>Progress</h2>
          {Object.keys(user.progress).length === 0 ? <p>Nothing shown yet.</p> : (
            <table>
              <thead><tr><th scope="col">Object</th><th scope="col">Shown</th><th scope="col">Step reached</th><th scope="col">Items done</th><th scope="col">State</th></tr></thead>
              <tbody>{Object.entries(user.progress).map(([oid, p]) => (
                <tr key={oid}><td><code>{oid}</code></td><td>{p.times_shown}</td><td>{p.step_reached == null ? '—' : p.step_reached + 1}</td>
                  <td>{p.items_completed.join(', ') || '—'}</td><td>{p.completed ? 'completed' : p.dismissed ? 'dismissed' : 'in progress'}</td></tr>
              ))}</tbody>
            </table>
          )}
          <h2>Events</h2>
          <table><tbody>{Object.entries(user.event_counts).map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td>{v}</td></tr>)}</tbody></table>
        </div>
      )}
    </section>
  );
}
