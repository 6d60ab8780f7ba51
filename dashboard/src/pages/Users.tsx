// End-user lookup: a user's profile, attributes, progress per tour,
// announcement and checklist (by name), tracked events with when each last
// happened, and their recent events, in one environment.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type ObjectView, type Page, type Schemas } from '../api';

type EndUser = Schemas['EndUserView'];

export function Users() {
  const [id, setId] = useState(new URLSearchParams(location.search).get('id') ?? '');
  const [env, setEnv] = useState('production');
  const [user, setUser] = useState<EndUser | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [names, setNames] = useState<Record<string, string>>({});
  useEffect(() => { if (id) void lookup(); }, []);
  useEffect(() => {
    const ids = Object.keys(user?.progress ?? {});
    if (!ids.length) return;
    // One call per kind, by ids.
    void Promise.all(['tours', 'content', 'checklists'].map((k) => call<Page<ObjectView>>('GET', `/v1/admin/${k}?ids=${ids.join(',')}`).then((p) => p.items, () => [])))
      .then((lists) => setNames(Object.fromEntries(lists.flat().map((o) => [o.id, o.name]))));
  }, [user]);
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
                <tr key={oid}><td>{names[oid] ?? <code>{oid}</code>}</td><td>{p.times_shown}</td><td>{p.step_reached == null ? '—' : p.step_reached + 1}</td>
                  <td>{p.items_completed.join(', ') || '—'}</td><td>{p.completed ? 'completed' : p.dismissed ? 'dismissed' : 'in progress'}</td></tr>
              ))}</tbody>
            </table>
          )}
          <h2>Tracked events</h2>
          {Object.keys(user.event_counts).length === 0 ? <p>None.</p> : (
            <table>
              <thead><tr><th scope="col">Event</th><th scope="col">Count</th><th scope="col">Last</th></tr></thead>
              <tbody>{Object.entries(user.event_counts).sort(([a], [b]) => (user.event_last_at[b] ?? 0) - (user.event_last_at[a] ?? 0)).map(([k, v]) => (
                <tr key={k}><th scope="row">{k}</th><td>{v}</td><td>{user.event_last_at[k] ? new Date(user.event_last_at[k]!).toLocaleString() : '—'}</td></tr>
              ))}</tbody>
            </table>
          )}
          <h2>Recent events</h2>
          {user.recent_events.length === 0 ? <p>None among the environment's latest events.</p> : (
            <table>
              <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Object</th><th scope="col">Properties</th></tr></thead>
              <tbody>{user.recent_events.map((ev) => (
                <tr key={ev.event_id}><td>{new Date(String(ev.occurred_at)).toLocaleString()}</td><td>{ev.name}</td>
                  <td>{ev.object_id ? (names[ev.object_id] ?? <code>{ev.object_id}</code>) : '—'}{ev.step != null ? ` · step ${ev.step + 1}` : ''}</td>
                  <td><code>{JSON.stringify(ev.properties)}</code></td></tr>
              ))}</tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
