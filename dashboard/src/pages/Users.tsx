// End-user lookup: a user's profile, attributes, progress per tour,
// announcement and checklist (by name), tracked events with when each last
// happened, and their recent events, in one environment; for admins and
// owners, the person's data export and erasure (confirmed by typing the id).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, upload, type ObjectView, type Page, type Schemas } from '../api';
import { Link } from '../router';

type EndUser = Schemas['EndUserView'];
type Erasure = Schemas['ErasureReport'];
type Imported = Schemas['ImportReport'];

export function Users({ canAdmin = false }: { canAdmin?: boolean }) {
  const [id, setId] = useState(new URLSearchParams(location.search).get('id') ?? '');
  const [env, setEnv] = useState('production');
  const [user, setUser] = useState<EndUser | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [names, setNames] = useState<Record<string, string>>({});
  const [erased, setErased] = useState<Erasure | null>(null);
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
    setErased(null);
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
      {erased && <ErasureDone report={erased} />}
      {canAdmin && !user && <Import env={env} of="users" />}
      {user && (
        <div class="profile">
          <dl class="kpis">
            <div><dt>User</dt><dd>{user.user_id}</dd></div>
            <div><dt>First seen</dt><dd>{new Date(String(user.first_seen)).toLocaleString()}</dd></div>
            <div><dt>Last seen</dt><dd>{new Date(String(user.last_seen)).toLocaleString()}</dd></div>
            <div><dt>Verified</dt><dd>{user.verified ? 'yes' : 'no'}</dd></div>
            <div><dt>Account</dt><dd>{user.accounts.length === 0 ? '—' : user.accounts.map((a, i) => (
              <>{i > 0 && ', '}<Link href={`/app/accounts?id=${encodeURIComponent(a)}`}>{a}</Link></>
            ))}</dd></div>
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
          {canAdmin && <Privacy userId={user.user_id} onErased={(r) => { setUser(null); setErased(r); }} />}
        </div>
      )}
    </section>
  );
}

/** Export (a JSON file of everything stored) and erasure, typed-id confirmed. */
function Privacy({ userId, onErased }: { userId: string; onErased: (r: Erasure) => void }) {
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const path = `/v1/admin/users/${encodeURIComponent(userId)}`;
  const download = async () => {
    setError(null);
    try {
      const data = await call<unknown>('GET', `${path}/export`);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
      a.download = `spotlight-user-${userId.replace(/[^\w.-]/g, '_')}.json`;
      a.click();
      URL.revokeObjectURL(a.href);
    } catch (err) { setError(err instanceof ApiError ? err.message : String(err)); }
  };
  const erase = async (e: Event) => {
    e.preventDefault();
    if (confirm !== userId) return;
    setBusy(true);
    setError(null);
    try { onErased(await call<Erasure>('DELETE', path)); } catch (err) { setError(err instanceof ApiError ? err.message : String(err)); } finally { setBusy(false); }
  };
  return (
    <section class="danger" aria-labelledby="privacy-title">
      <h2 id="privacy-title">Privacy</h2>
      <p>Everything stored about this person, in every environment, as one JSON file — or erased for good:
        events, survey answers, progress and attributes go; counts stay without the id; your webhooks get a <code>user.erased</code> event.</p>
      {error && <p class="error" role="alert">{error}</p>}
      <p><button type="button" onClick={() => void download()}>Export data</button></p>
      <form onSubmit={erase} class="bar">
        <label>Type <code>{userId}</code> to erase this person
          <input value={confirm} autocomplete="off" onInput={(e) => setConfirm((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" class="danger" disabled={confirm !== userId || busy}>Erase user</button>
      </form>
    </section>
  );
}

function ErasureDone({ report }: { report: Erasure }) {
  const envs = Object.entries(report.environments);
  return (
    <div class="ok" role="status">
      <p><strong>{report.user_id}</strong> was erased. Events from before the erasure that still arrive are dropped until {new Date(String(report.tombstone_until)).toLocaleDateString()}.</p>
      <table>
        <thead><tr><th scope="col">Environment</th><th scope="col">Events</th><th scope="col">Progress</th><th scope="col">Deliveries scrubbed</th><th scope="col">Counts kept without the id</th><th scope="col">Sinks told</th></tr></thead>
        <tbody>{envs.map(([env, e]) => (
          <tr key={env}><th scope="row">{env}</th><td>{e.events}</td><td>{e.progress}</td><td>{e.deliveries_scrubbed}</td><td>{e.pseudonymised}</td><td>{e.sinks_notified}</td></tr>
        ))}</tbody>
      </table>
    </div>
  );
}

/** A CSV (or NDJSON) file of users (or accounts) and attributes, sent as it is read; the report after. */
export function Import({ env, of, onDone }: { env: string; of: 'users' | 'accounts'; onDone?: () => void }) {
  const id = of === 'users' ? 'user_id' : 'account_id';
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState<number | null>(null);
  const [report, setReport] = useState<Imported | null>(null);
  const [error, setError] = useState<string | null>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setError(null);
    setReport(null);
    setSent(0);
    const csv = !/\.(ndjson|jsonl)$/i.test(file.name);
    try {
      setReport(await upload<Imported>(`/v1/admin/${of}/import?environment=${env}`, file, csv ? 'text/csv' : 'application/x-ndjson', setSent));
      onDone?.();
    } catch (err) { setError(err instanceof ApiError ? err.message : String(err)); } finally { setSent(null); }
  };
  return (
    <section aria-labelledby="import-title">
      <h2 id="import-title">Import {of}</h2>
      <p>A CSV file with a <code>{id}</code> column and one column per attribute (or NDJSON lines of{' '}
        <code>{`{"${id}": …, "attributes": {…}}`}</code>), up to 1,000,000 rows. Attributes are merged into each
        {of === 'users' ? " user's" : " account's"}; rows with errors are listed by line and skipped.</p>
      <form class="bar" onSubmit={send}>
        <input type="file" aria-label="File to import" accept=".csv,.ndjson,.jsonl,text/csv" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        <button type="submit" class="primary" disabled={!file || sent !== null}>Import into {env}</button>
        {sent !== null && <progress aria-label="Import progress" max={1} value={sent} />}
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {report && (
        <div role="status" class="import-report">
          <dl class="kpis">
            <div><dt>Rows</dt><dd>{report.rows}</dd></div>
            <div><dt>Imported</dt><dd>{report.imported}</dd></div>
            <div><dt>New {of}</dt><dd>{report.created}</dd></div>
            <div><dt>Updated</dt><dd>{report.updated}</dd></div>
            <div><dt>Refused</dt><dd>{report.failed}</dd></div>
          </dl>
          {report.stopped && <p class="error">Stopped at line {report.stopped.line}: {report.stopped.message}</p>}
          {report.errors.length > 0 && (
            <table>
              <caption>Refused rows{report.failed > report.errors.length ? ` (first ${report.errors.length} of ${report.failed})` : ''}</caption>
              <thead><tr><th scope="col">Line</th><th scope="col">Problem</th><th scope="col">Detail</th></tr></thead>
              <tbody>{report.errors.map((e) => <tr key={e.line}><td>{e.line}</td><td>{e.code.replace(/_/g, ' ')}</td><td>{e.message}</td></tr>)}</tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
