// The approval queue: editors' publishes to environments that require
// approval, each with what it changes against what is live. An admin or owner
// other than the requester approves (publishing that exact revision) or
// rejects with a comment; decided and voided requests are listed below.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Page, type Schemas } from '../api';

type Request = Schemas['PublishRequestView'];

const show = (v: unknown) => (v === undefined || v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

export function Approvals({ canDecide, me }: { canDecide: boolean; me: string }) {
  const [pending, setPending] = useState<Request[] | null>(null);
  const [decided, setDecided] = useState<Request[]>([]);
  const [comments, setComments] = useState<Record<string, string>>({});
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    setPending((await call<Page<Request>>('GET', '/v1/admin/publish-requests?status=pending')).items);
    setDecided((await call<Page<Request>>('GET', '/v1/admin/publish-requests?limit=20')).items.filter((r) => r.status !== 'pending'));
  };
  useEffect(() => { load().catch((e) => setError(String(e))); }, []);
  const run = async (done: string, fn: () => Promise<unknown>) => {
    setError(null); setNote(null);
    try { await fn(); setNote(done); } catch (e) { setError(e instanceof ApiError ? e.message : String(e)); }
    await load().catch(() => {});
  };
  if (!pending) return <p class="loading">Loading…</p>;
  return (
    <section aria-labelledby="approvals-title" class="settings">
      <h1 id="approvals-title">Approvals</h1>
      {note && <p class="ok" role="status">{note}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {pending.length === 0 ? <p>Nothing waits for approval.</p> : pending.map((r) => (
        <article class="request" aria-label={`${r.object_name} to ${r.environment}`} key={r.id}>
          <h2>{r.object_name} <span class="hint">({r.kind}) → {r.environment}</span></h2>
          <p class="hint">Requested by {r.requested_by} · {new Date(String(r.requested_at)).toLocaleString()} · draft revision {r.revision}</p>
          <table>
            <caption>What approving it changes in {r.environment}</caption>
            <thead><tr><th scope="col">Field</th><th scope="col">Live now</th><th scope="col">Requested</th></tr></thead>
            <tbody>{r.changes.map((c) => (
              <tr key={c.path}><th scope="row"><code>{c.path}</code></th><td class="before">{show(c.before)}</td><td class="after">{show(c.after)}</td></tr>
            ))}</tbody>
          </table>
          {canDecide && r.requested_by !== me && (
            <div class="row">
              <button type="button" class="primary" onClick={() => run(`Approved: ${r.object_name} is live in ${r.environment}.`, () => call('POST', `/v1/admin/publish-requests/${r.id}/approve`))}>Approve and publish</button>
              <input aria-label={`Why reject ${r.object_name}`} placeholder="Why (shown to the requester)" value={comments[r.id] ?? ''}
                onInput={(e) => setComments({ ...comments, [r.id]: (e.target as HTMLInputElement).value })} />
              <button type="button" class="danger" onClick={() => run('Rejected.', () => call('POST', `/v1/admin/publish-requests/${r.id}/reject`, { comment: comments[r.id] ?? '' }))}>Reject</button>
            </div>
          )}
          {r.requested_by === me && <p class="hint">Your request: another admin or owner decides it.</p>}
        </article>
      ))}
      {decided.length > 0 && (
        <>
          <h2>Decided</h2>
          <table>
            <thead><tr><th scope="col">Object</th><th scope="col">Environment</th><th scope="col">Requested by</th><th scope="col">Outcome</th></tr></thead>
            <tbody>{decided.map((r) => (
              <tr key={r.id}><td>{r.object_name}</td><td>{r.environment}</td><td>{r.requested_by}</td>
                <td>{r.status === 'approved' ? `approved by ${r.decided_by} (v${r.version})`
                  : r.status === 'rejected' ? `rejected by ${r.decided_by}: ${r.comment}`
                  : 'voided: the draft changed'}</td></tr>
            ))}</tbody>
          </table>
        </>
      )}
    </section>
  );
}
