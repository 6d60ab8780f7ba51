// The audit log: every change through the admin API or this dashboard, newest
// first, filterable by action and object kind, exportable as CSV or JSON.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Page, type Schemas } from '../api';

type Entry = Schemas['AuditView'];

export function Audit() {
  const [action, setAction] = useState('');
  const [kind, setKind] = useState('');
  const [items, setItems] = useState<Entry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const qs = new URLSearchParams({ limit: '100' });
  if (action.trim()) qs.set('action', action.trim());
  if (kind) qs.set('object_kind', kind);
  useEffect(() => {
    let live = true;
    call<Page<Entry>>('GET', `/v1/admin/audit?${qs}`).then(
      (p) => { if (live) { setItems(p.items); setError(null); } },
      (e: unknown) => { if (live) setError(e instanceof ApiError ? e.message : String(e)); },
    );
    return () => { live = false; };
  }, [action, kind]);
  const exportQs = (format: string) => { const q = new URLSearchParams(qs); q.delete('limit'); q.set('format', format); return `/v1/admin/audit?${q}`; };
  return (
    <section aria-labelledby="audit-title">
      <div class="bar">
        <h1 id="audit-title">Audit log</h1>
        <input type="search" aria-label="Filter by action" placeholder="Action (e.g. publish)" value={action} onInput={(e) => setAction((e.target as HTMLInputElement).value)} />
        <select aria-label="Filter by object kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
          <option value="">Every kind</option>
          {['tour', 'content', 'checklist', 'launcher', 'theme', 'audience', 'key', 'settings', 'member', 'webhook'].map((k) => <option value={k}>{k}</option>)}
        </select>
        <a href={exportQs('csv')} download="audit.csv">Export CSV</a>
        <a href={exportQs('json')} download="audit.json">Export JSON</a>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {items === null ? <p>Loading…</p> : items.length === 0 ? <p>Nothing recorded yet.</p> : (
        <table>
          <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Changes</th></tr></thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id}>
                <td><time dateTime={String(e.at)}>{new Date(String(e.at)).toLocaleString()}</time></td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>{e.object_kind} <code>{e.object_id.slice(0, 8)}</code></td>
                <td>{e.changes.slice(0, 3).map((c) => c.path).join(', ')}{e.changes.length > 3 ? ` +${e.changes.length - 3}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
