// Tours: a searchable list with status and the version each environment serves.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type ObjectView, type Page } from '../api';
import { Link, navigate } from '../router';

export function Tours({ canEdit }: { canEdit: boolean }) {
  const [q, setQ] = useState('');
  const [items, setItems] = useState<ObjectView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      const qs = new URLSearchParams({ limit: '100' });
      if (q.trim()) qs.set('q', q.trim());
      call<Page<ObjectView>>('GET', `/v1/admin/tours?${qs}`).then(
        (p) => { if (live) { setItems(p.items); setError(null); } },
        (e: unknown) => { if (live) setError(e instanceof ApiError ? e.message : String(e)); },
      );
    }, q ? 200 : 0);
    return () => { live = false; clearTimeout(t); };
  }, [q]);
  const create = async () => {
    try {
      const t = await call<ObjectView>('POST', '/v1/admin/tours', {
        name: 'Untitled tour',
        steps: [{ kind: 'modal', title: 'Welcome', body: '<p>Say hello.</p>' }],
      });
      navigate(`/app/tours/${t.id}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <section aria-labelledby="tours-title">
      <div class="bar">
        <h1 id="tours-title">Tours</h1>
        <input type="search" placeholder="Search tours" aria-label="Search tours" value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        {canEdit && <button type="button" class="primary" onClick={create}>New tour</button>}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {items === null ? <p>Loading…</p> : items.length === 0 ? <p>No tours{q ? ` match “${q}”` : ' yet'}.</p> : (
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Production</th><th scope="col">Staging</th><th scope="col">Updated</th></tr></thead>
          <tbody>
            {items.map((t) => (
              <tr key={t.id}>
                <td><Link href={`/app/tours/${t.id}`}>{t.name}</Link></td>
                <td><span class={`status ${t.status}`}>{t.status}</span></td>
                <td>{version(t, 'production')}</td>
                <td>{version(t, 'staging')}</td>
                <td><time dateTime={String(t.updated_at)}>{new Date(String(t.updated_at)).toLocaleString()}</time></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function version(t: ObjectView, env: string): string {
  const p = (t.published as Record<string, { version: number }>)[env];
  return p ? `v${p.version}` : '—';
}
