// One authored object: its draft edited in a form for its kind (or as JSON),
// saved with the revision it was read at (a 412 offers reload or overwrite),
// previewed on a page of the tenant's app, published to staging, promoted to
// production, compared with and rolled back to a version, duplicated,
// archived. The edit in progress is kept in localStorage, so a lost session
// or a reload does not lose it. Viewers see it read-only.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, call, type ObjectView, type Page } from '../api';
import { Link, navigate } from '../router';
import type { Collection } from './Objects';
import { Field, val, type FieldError, type Json, type Refs } from '../editors/fields';
import { TourEditor, type TourDoc } from '../editors/tour';
import { ChecklistEditor, ContentEditor, LauncherEditor, type ChecklistDoc, type ContentDoc, type LauncherDoc } from '../editors/content';
import { AudienceEditor, ThemeEditor, type AudienceDoc, type ThemeDoc } from '../editors/theme';
import { Diff } from '../editors/diff';
import { withParam } from '../editors/target';

type Version = { version: number; created_at: string; created_by: string; published_in: string[]; document?: unknown };
type Named = { id: string; name: string };
const draftKey = (id: string) => `spotlight:draft:${id}`;
const PAGE_KEY = 'spotlight:page-url';

export function Editor({ collection, id, canEdit }: { collection: Collection; id: string; canEdit: boolean }) {
  const base_ = `/v1/admin/${collection.path}/${id}`;
  const [obj, setObj] = useState<ObjectView | null>(null);
  const [doc, setDoc] = useState<Json | null>(null);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [conflict, setConflict] = useState(false);
  const [versions, setVersions] = useState<Version[]>([]);
  const [compare, setCompare] = useState<Version | null>(null);
  const [json, setJson] = useState(false);
  const [lists, setLists] = useState<{ tours: Named[]; checklists: Named[]; themes: Named[]; audiences: Named[]; origin: string }>({ tours: [], checklists: [], themes: [], audiences: [], origin: '' });
  const [pageUrl, setPageUrlState] = useState(() => localStorage.getItem(PAGE_KEY) ?? '');
  // The revision the edit in progress started from: what `If-Match` must name.
  const [base, setBase] = useState(0);

  const load = async (keepLocal: boolean) => {
    const o = await call<ObjectView>('GET', base_);
    setObj(o);
    const local = keepLocal ? readDraft(id) : null;
    setDoc(local ? local.doc : (o.document as Json));
    setBase(local ? local.rev : o.revision);
    if (!keepLocal) localStorage.removeItem(draftKey(id));
    setVersions((await call<{ items: Version[] }>('GET', `${base_}/versions`)).items);
  };
  useEffect(() => { load(true).catch((e: unknown) => setMessage({ kind: 'error', text: String(e instanceof ApiError ? e.message : e) })); }, [id]);
  // What the forms may point at: names for the selects, the app's origin for previews.
  useEffect(() => {
    const names = (c: string) => call<Page<ObjectView>>('GET', `/v1/admin/${c}?limit=100`).then((p) => p.items.map((x) => ({ id: x.id, name: x.name })), () => []);
    void Promise.all([names('tours'), names('checklists'), names('themes'), names('audiences'),
      call<{ allowed_origins: string[] }>('GET', '/v1/admin/settings').then((s) => s.allowed_origins.find((o) => !o.includes('*')) ?? '', () => '')])
      .then(([tours, checklists, themes, audiences, origin]) => setLists({ tours, checklists, themes, audiences, origin }));
  }, []);
  const refs: Refs = useMemo(() => {
    const first = (doc?.pages as { match: string; pattern: string }[] | undefined)?.find((p) => p.match === 'exact')?.pattern;
    const suggested = first ? `${lists.origin || location.origin}${first}` : '';
    return {
      ...lists,
      pageUrl: pageUrl || suggested,
      setPageUrl: (u: string) => { setPageUrlState(u); try { localStorage.setItem(PAGE_KEY, u); } catch { /* private mode */ } },
    };
  }, [lists, pageUrl, doc?.pages]);

  if (!doc || !obj) return message ? <p class="error" role="alert">{message.text}</p> : <p>Loading…</p>;

  const change = (next: Json) => {
    setDoc(next);
    try { localStorage.setItem(draftKey(id), JSON.stringify({ rev: base, doc: next })); } catch { /* full: memory only */ }
  };
  const err = (path: string) => errors.filter((e) => e.path === path || e.path.startsWith(`${path}.`) || e.path.startsWith(`${path}[`));
  const fail = (e: unknown) => {
    if (e instanceof ApiError && e.code === 'validation_failed') {
      setErrors(((e.details?.fields as FieldError[]) ?? []));
      setMessage({ kind: 'error', text: 'Some fields need attention.' });
    } else if (e instanceof ApiError && e.status === 412) {
      setConflict(true);
    } else {
      setMessage({ kind: 'error', text: e instanceof ApiError ? e.message : String(e) });
    }
  };
  const act = async (label: string, fn: () => Promise<unknown>) => {
    setMessage(null);
    try { await fn(); setMessage({ kind: 'ok', text: label }); } catch (e) { fail(e); }
  };
  const save = (overwrite = false) => act('Saved.', async () => {
    const r = await call<ObjectView>('PUT', base_, doc, { 'if-match': overwrite ? '*' : `"${base}"` });
    setErrors([]);
    setConflict(false);
    localStorage.removeItem(draftKey(id));
    setObj(r);
    setDoc(r.document as Json);
    setBase(r.revision);
  });
  // Where editors need approval, a publish answers 202 with a request.
  const publish = async (environment: string) => {
    setMessage(null);
    try {
      const r = await call<{ object?: unknown; status?: string }>('POST', `${base_}/publish`, { environment });
      setMessage({ kind: 'ok', text: r.status === 'pending'
        ? `Sent for approval: an admin or owner reviews it under Approvals before it reaches ${environment}.`
        : `Published to ${environment}.` });
      await load(false);
    } catch (e) { fail(e); }
  };
  const promote = () => act('Promoted to production.', async () => {
    await call('POST', `${base_}/promote`, { from: 'staging', to: 'production' });
    await load(false);
  });
  const rollback = (version: number) => act(`Rolled back production to v${version}.`, async () => {
    await call('POST', `${base_}/rollback`, { version, environment: 'production' });
    await load(false);
  });
  const duplicate = () => act('Duplicated.', async () => {
    const copy = await call<ObjectView>('POST', `${base_}/duplicate`);
    navigate(`/app/${collection.path}/${copy.id}`);
  });
  const archive = () => act('Archived.', async () => { await call('POST', `${base_}/archive`); await load(false); });
  const kill = (enabled: boolean) => act(enabled ? 'Kill switch on: shown nowhere.' : 'Kill switch off.', async () => {
    setObj(await call<ObjectView>('POST', `${base_}/kill-switch`, { enabled }));
  });
  const showVersion = async (v: number) => {
    try { setCompare(await call<Version>('GET', `${base_}/versions/${v}`)); } catch (e) { fail(e); }
  };
  const preview = () => {
    const url = withParam(refs.pageUrl, 'spotlight_preview');
    if (!url) { setMessage({ kind: 'error', text: 'Enter the full address of a page of your app (https://…) to preview on.' }); return; }
    window.open(url, 'spotlight-preview');
    setMessage({ kind: 'ok', text: 'Opened your page with drafts shown (saved drafts; in-app admins only — Settings → In-app admins).' });
  };

  const published = obj.published as Record<string, { version: number }>;
  const ro = !canEdit;
  // Each form is typed for its kind; the shell holds any document.
  const props = { change: change as (d: any) => void, err, ro, refs }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const kind = collection.path;
  const dirty = readDraft(id) !== null;
  return (
    <section aria-labelledby="editor-title" class="editor">
      <div class="bar">
        <h1 id="editor-title">{obj.name}</h1>
        <span class={`status ${obj.status}`}>{obj.status}</span>
        {kind === 'tours' && <a href={`/app/analytics?tour=${id}`} onClick={(e) => { e.preventDefault(); navigate(`/app/analytics?tour=${id}`); }}>Analytics</a>}
        {obj.kill_switch && <span class="status killed">kill switch on</span>}
        <span class="hint">staging {published.staging ? `v${published.staging.version}` : '—'} · production {published.production ? `v${published.production.version}` : '—'}{dirty ? ' · unsaved changes' : ''}</span>
      </div>
      {message && <p class={message.kind === 'ok' ? 'ok' : 'error'} role={message.kind === 'ok' ? 'status' : 'alert'}>{message.text}</p>}
      {conflict && (
        <div class="conflict" role="alert">
          <p>This {collection.noun} was changed by someone else since you opened it.</p>
          <button type="button" onClick={() => { setConflict(false); void load(false); }}>Reload theirs</button>
          <button type="button" class="primary" onClick={() => save(true)}>Overwrite with mine</button>
        </div>
      )}
      <div class="tabs" role="group" aria-label="Edit as">
        <button type="button" aria-pressed={json ? 'false' : 'true'} onClick={() => setJson(false)}>Form</button>
        <button type="button" aria-pressed={json ? 'true' : 'false'} onClick={() => setJson(true)}>JSON</button>
      </div>
      <form onSubmit={(e) => { e.preventDefault(); void save(); }}>
        {json ? <JsonField key={`${base}-${obj.revision}`} doc={doc} readOnly={ro} errors={errors} onChange={change} />
          : kind === 'tours' ? <TourEditor {...props} id={id} doc={doc as TourDoc} />
          : kind === 'content' ? <ContentEditor {...props} id={id} doc={doc as ContentDoc} />
          : kind === 'checklists' ? <ChecklistEditor {...props} doc={doc as ChecklistDoc} />
          : kind === 'launchers' ? <LauncherEditor {...props} doc={doc as LauncherDoc} />
          : kind === 'themes' ? <ThemeEditor {...props} doc={doc as ThemeDoc} />
          : <AudienceEditor {...props} doc={doc as AudienceDoc} />}
        {errors.filter((e) => !e.path || e.path === 'document').map((e) => <p class="error">{e.message}</p>)}
        {!ro && (
          <div class="row actions">
            <button type="submit" class="primary">Save</button>
            <button type="button" onClick={() => { void publish('staging'); }}>Publish to staging</button>
            <button type="button" onClick={() => { void publish('production'); }}>Publish to production</button>
            <button type="button" onClick={promote} disabled={!published.staging}>Promote to production</button>
            <button type="button" onClick={duplicate}>Duplicate</button>
            {(kind === 'tours' || kind === 'content' || kind === 'checklists') && <Link href={`/app/translations?ids=${id}`}>Translations</Link>}
            <button type="button" onClick={archive} disabled={obj.status === 'archived'}>Archive</button>
            {kind !== 'themes' && kind !== 'audiences' && (
              <button type="button" class={obj.kill_switch ? 'primary' : 'danger'} aria-pressed={obj.kill_switch ? 'true' : 'false'} onClick={() => kill(!obj.kill_switch)}>
                {obj.kill_switch ? 'Turn the kill switch off' : 'Kill switch: hide everywhere now'}
              </button>
            )}
          </div>
        )}
      </form>
      {['tours', 'content', 'checklists', 'launchers'].includes(kind) && (
        <div class="row preview-on">
          <label for="preview-url">Preview on a page of your app</label>
          <input id="preview-url" type="url" placeholder="https://app.example.com/" value={refs.pageUrl} onInput={(e) => refs.setPageUrl(val(e))} />
          <button type="button" onClick={preview}>Preview on page</button>
        </div>
      )}
      <h2>Versions</h2>
      {versions.length === 0 ? <p>Not published yet.</p> : (
        <table>
          <thead><tr><th scope="col">Version</th><th scope="col">Published by</th><th scope="col">When</th><th scope="col">Serving</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version}>
                <td>v{v.version}</td><td>{v.created_by}</td><td>{new Date(v.created_at).toLocaleString()}</td>
                <td>{v.published_in.join(', ') || '—'}</td>
                <td>
                  <button type="button" onClick={() => showVersion(v.version)}>Compare v{v.version} with the draft</button>
                  {!ro && <button type="button" disabled={v.published_in.includes('production')} onClick={() => rollback(v.version)}>Roll back production to v{v.version}</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {compare && (
        <div class="compare">
          <h3>v{compare.version} → draft</h3>
          <Diff from={compare.document} to={doc} fromLabel={`v${compare.version}`} toLabel="draft" />
          <button type="button" onClick={() => setCompare(null)}>Close comparison</button>
        </div>
      )}
    </section>
  );
}

function readDraft(id: string): { rev: number; doc: Json } | null {
  try {
    const v = JSON.parse(localStorage.getItem(draftKey(id)) ?? 'null') as { rev?: number; doc?: Json } | null;
    return v && typeof v.rev === 'number' && v.doc ? { rev: v.rev, doc: v.doc } : null;
  } catch {
    return null;
  }
}

/** The document as JSON; a syntax error is shown at the field and nothing is changed. */
function JsonField({ doc, readOnly, errors, onChange }: { doc: Json; readOnly: boolean; errors: FieldError[]; onChange: (d: Json) => void }) {
  const [text, setText] = useState(JSON.stringify(doc, null, 2));
  const [syntax, setSyntax] = useState<string | null>(null);
  const all = [...(syntax ? [{ path: 'document', message: syntax }] : []), ...errors];
  return (
    <Field label="Document (JSON)" id="f-doc" errors={all}>
      <textarea id="f-doc" class="code" rows={24} value={text} readOnly={readOnly} spellcheck={false}
        onInput={(e) => {
          const t = val(e);
          setText(t);
          try {
            const v: unknown = JSON.parse(t);
            if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('must be a JSON object');
            setSyntax(null);
            onChange(v as Json);
          } catch (err) {
            setSyntax(err instanceof Error ? err.message : String(err));
          }
        }} />
    </Field>
  );
}
