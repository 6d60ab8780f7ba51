// Every authored collection (tours, announcements, checklists, launchers,
// themes, audiences): a searchable list with status and the version each
// environment serves, and "New" with a valid starting document.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type ObjectView, type Page } from '../api';
import { Link, navigate } from '../router';

export interface Collection { path: string; title: string; noun: string; blank: Record<string, unknown> }

export const COLLECTIONS: Collection[] = [
  { path: 'tours', title: 'Tours', noun: 'tour', blank: { name: 'Untitled tour', steps: [{ kind: 'modal', title: 'Welcome', body: '<p>Say hello.</p>' }] } },
  { path: 'content', title: 'Announcements', noun: 'announcement', blank: { name: 'Untitled announcement', type: 'banner', position: 'bottom', title: 'News', body: '<p>Something new.</p>' } },
  { path: 'checklists', title: 'Checklists', noun: 'checklist', blank: { name: 'Untitled checklist', title: 'Get started', items: [{ id: 'first', title: 'Do the first thing', completed_by: { type: 'event', event: 'first_thing' } }] } },
  { path: 'launchers', title: 'Launchers', noun: 'launcher', blank: { name: 'Untitled launcher', type: 'button', label: 'Help', items: [{ type: 'link', label: 'Help center', url: 'https://example.com/help' }] } },
  { path: 'themes', title: 'Themes', noun: 'theme', blank: { name: 'Untitled theme', tokens: { primary: '#3b5bdb', background: '#ffffff', text: '#1f2328', radius_px: 8 } } },
  { path: 'audiences', title: 'Audiences', noun: 'audience', blank: { name: 'Untitled audience', rule: 'plan in ["pro", "team"]' } },
];

export function Objects({ collection, canEdit }: { collection: Collection; canEdit: boolean }) {
  const { path, title, noun } = collection;
  const [q, setQ] = useState('');
  const [items, setItems] = useState<ObjectView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      const qs = new URLSearchParams({ limit: '100' });
      if (q.trim()) qs.set('q', q.trim());
      call<Page<ObjectView>>('GET', `/v1/admin/${path}?${qs}`).then(
        (p) => { if (live) { setItems(p.items); setError(null); } },
        (e: unknown) => { if (live) setError(e instanceof ApiError ? e.message : String(e)); },
      );
    }, q ? 200 : 0);
    return () => { live = false; clearTimeout(t); };
  }, [q, path]);
  const create = async () => {
    try {
      const t = await call<ObjectView>('POST', `/v1/admin/${path}`, collection.blank);
      navigate(`/app/${path}/${t.id}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <section aria-labelledby="list-title">
      <div class="bar">
        <h1 id="list-title">{title}</h1>
        <input type="search" placeholder={`Search ${title.toLowerCase()}`} aria-label={`Search ${title.toLowerCase()}`} value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        {canEdit && <button type="button" class="primary" onClick={create}>New {noun}</button>}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {items === null ? <p>Loading…</p> : items.length === 0 ? <p>No {title.toLowerCase()}{q ? ` match “${q}”` : ' yet'}.</p> : (
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Production</th><th scope="col">Staging</th><th scope="col">Updated</th></tr></thead>
          <tbody>
            {items.map((t) => (
              <tr key={t.id}>
                <td><Link href={`/app/${path}/${t.id}`}>{t.name}</Link></td>
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
