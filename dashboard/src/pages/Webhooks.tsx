// Webhooks (create with the secret shown once, test-send, rotate, delete, the
// delivery log) and dead letters (replay, discard) — the event pipeline's
// controls for admins and owners.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Page, type Schemas } from '../api';

type Hook = Schemas['WebhookView'];
type Attempt = Schemas['AttemptView'];
type Dead = Schemas['DeadLetterView'];

export function Webhooks() {
  const [hooks, setHooks] = useState<Hook[]>([]);
  const [dead, setDead] = useState<Dead[]>([]);
  const [log, setLog] = useState<{ id: string; items: Attempt[] } | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    setHooks((await call<Page<Hook>>('GET', '/v1/admin/webhooks')).items);
    setDead((await call<Page<Dead>>('GET', '/v1/admin/dead-letters?limit=100')).items);
  };
  useEffect(() => { load().catch((e: unknown) => setError(String(e instanceof ApiError ? e.message : e))); }, []);
  const run = async (done: string, fn: () => Promise<unknown>) => {
    setNote(null); setError(null);
    try { await fn(); setNote(done); await load(); } catch (e) { setError(e instanceof ApiError ? e.message : String(e)); }
  };
  const showLog = async (id: string) => setLog({ id, items: (await call<Page<Attempt>>('GET', `/v1/admin/webhooks/${id}/deliveries`)).items });
  return (
    <section aria-labelledby="hooks-title" class="settings">
      <h1 id="hooks-title">Webhooks and dead letters</h1>
      {note && <p class="ok" role="status">{note}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {secret && (
        <div class="secret" role="alert">
          <p>The signing secret. Copy it now: it is shown only once.</p>
          <code>{secret}</code>
          <button type="button" onClick={() => setSecret(null)}>I have copied it</button>
        </div>
      )}
      <form class="row" onSubmit={(e) => { e.preventDefault(); void run('Webhook created.', async () => {
        const list = events.split(',').map((x) => x.trim()).filter(Boolean);
        const r = await call<{ webhook: Hook; secret: string }>('POST', '/v1/admin/webhooks', { url: url.trim(), ...(list.length ? { events: list } : {}) });
        setSecret(r.secret);
        setUrl(''); setEvents('');
      }); }}>
        <input aria-label="Endpoint URL" placeholder="https://example.com/hooks/spotlight" value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
        <input aria-label="Events (comma separated; empty: all)" placeholder="tour_completed, survey_answered" value={events} onInput={(e) => setEvents((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary">Add webhook</button>
      </form>
      <table>
        <thead><tr><th scope="col">Endpoint</th><th scope="col">Environment</th><th scope="col">Events</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>{hooks.map((h) => (
          <tr key={h.id}>
            <td><code>{h.url}</code>{h.enabled ? '' : ' (disabled)'}</td><td>{h.environment}</td><td>{h.events.join(', ') || 'all'}</td>
            <td class="row">
              <button type="button" onClick={() => run('Test sent.', () => call('POST', `/v1/admin/webhooks/${h.id}/test`))}>Send test</button>
              <button type="button" onClick={() => { void showLog(h.id); }}>Delivery log</button>
              <button type="button" onClick={() => run('Secret rotated.', async () => setSecret((await call<{ secret: string }>('POST', `/v1/admin/webhooks/${h.id}/rotate`)).secret))}>Rotate secret</button>
              <button type="button" onClick={() => { if (confirm('Delete this webhook?')) void run('Webhook deleted.', () => call('DELETE', `/v1/admin/webhooks/${h.id}`)); }}>Delete</button>
            </td>
          </tr>
        ))}</tbody>
      </table>
      {log && (
        <>
          <h2>Delivery log</h2>
          {log.items.length === 0 ? <p>No deliveries in the last 30 days.</p> : (
            <table>
              <thead><tr><th scope="col">When</th><th scope="col">Delivery</th><th scope="col">Attempt</th><th scope="col">Result</th><th scope="col">Time</th></tr></thead>
              <tbody>{log.items.map((a) => (
                <tr key={`${a.delivery_id}-${a.attempt}`}><td>{new Date(String(a.at)).toLocaleString()}</td><td><code>{a.delivery_id.slice(0, 8)}</code></td><td>{a.attempt}</td>
                  <td>{a.ok ? `ok (${a.status_code})` : `failed: ${a.error ?? a.status_code}`}</td><td>{a.duration_ms} ms</td></tr>
              ))}</tbody>
            </table>
          )}
        </>
      )}
      <h2>Dead letters</h2>
      {dead.length === 0 ? <p>None: every delivery got through.</p> : (
        <>
          <button type="button" onClick={() => run('Replaying all.', () => call('POST', '/v1/admin/dead-letters/replay', {}))}>Replay all</button>
          <table>
            <thead><tr><th scope="col">Sink</th><th scope="col">Events</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
            <tbody>{dead.map((d) => (
              <tr key={d.id}><td><code>{hooks.find((h) => h.id === d.sink)?.url ?? d.sink}</code></td><td>{d.event_count}</td><td>{d.attempts}</td><td>{d.last_error ?? '—'}</td>
                <td class="row">
                  <button type="button" onClick={() => run('Replayed.', () => call('POST', `/v1/admin/dead-letters/${d.id}/replay`))}>Replay</button>
                  <button type="button" onClick={() => run('Discarded.', () => call('DELETE', `/v1/admin/dead-letters/${d.id}`))}>Discard</button>
                </td></tr>
            ))}</tbody>
          </table>
        </>
      )}
    </section>
  );
}
