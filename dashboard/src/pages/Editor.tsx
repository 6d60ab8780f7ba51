// One authored object: edit the draft — tours field by field (steps, targets,
// audience, page rule, trigger, frequency), other kinds as their JSON document
// (themes with a live preview) — save with the revision it was read at (a 412
// offers reload or overwrite), publish to staging, promote to production, roll
// back to a version, duplicate, archive. The edit in progress is kept in
// localStorage, so a lost session or a reload does not lose it. Viewers see it
// read-only.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type ObjectView } from '../api';
import { navigate } from '../router';
import type { Collection } from './Objects';

type Json = Record<string, unknown>;
type Step = { kind: string; title?: string; body?: string; target?: { selectors: string[]; text?: string }; placement?: string; [k: string]: unknown };
type TourDoc = { name: string; steps: Step[]; audience?: string; pages?: { match: string; pattern: string }[]; trigger?: Json; frequency?: Json; [k: string]: unknown };
type FieldError = { path: string; message: string };
type Version = { version: number; created_at: string; created_by: string; published_in: string[] };

const KINDS = ['tooltip', 'modal', 'hotspot', 'highlight', 'survey'];
const PLACEMENTS = ['auto', 'top', 'bottom', 'left', 'right', 'top-start', 'top-end', 'bottom-start', 'bottom-end'];
const draftKey = (id: string) => `spotlight:draft:${id}`;

export function Editor({ collection, id, canEdit }: { collection: Collection; id: string; canEdit: boolean }) {
  const base_ = `/v1/admin/${collection.path}/${id}`;
  const isTour = collection.path === 'tours';
  const [obj, setObj] = useState<ObjectView | null>(null);
  const [doc, setDoc] = useState<TourDoc | null>(null);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [conflict, setConflict] = useState(false);
  const [versions, setVersions] = useState<Version[]>([]);
  // The revision the edit in progress started from: what `If-Match` must name.
  const [base, setBase] = useState(0);

  const load = async (keepLocal: boolean) => {
    const o = await call<ObjectView>('GET', base_);
    setObj(o);
    const local = keepLocal ? readDraft(id) : null;
    setDoc(local ? local.doc : (o.document as unknown as TourDoc));
    setBase(local ? local.rev : o.revision);
    if (!keepLocal) localStorage.removeItem(draftKey(id));
    setVersions((await call<{ items: Version[] }>('GET', `${base_}/versions`)).items);
  };
  useEffect(() => { load(true).catch((e: unknown) => setMessage({ kind: 'error', text: String(e instanceof ApiError ? e.message : e) })); }, [id]);

  if (!doc || !obj) return message ? <p class="error" role="alert">{message.text}</p> : <p>Loading…</p>;

  const change = (next: TourDoc) => {
    setDoc(next);
    try { localStorage.setItem(draftKey(id), JSON.stringify({ rev: base, doc: next })); } catch { /* full: memory only */ }
  };
  const setStep = (i: number, patch: Partial<Step>) => change({ ...doc, steps: doc.steps.map((s, j) => (j === i ? { ...s, ...patch } : s)) });
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
    setBase(r.revision);
  });
  const publish = () => act('Published to staging.', async () => {
    await call('POST', `${base_}/publish`, { environment: 'staging' });
    await load(false);
  });
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

  const published = obj.published as Record<string, { version: number }>;
  const ro = !canEdit;
  return (
    <section aria-labelledby="editor-title" class="editor">
      <div class="bar">
        <h1 id="editor-title">{obj.name}</h1>
        <span class={`status ${obj.status}`}>{obj.status}</span>
        {isTour && <a href={`/app/analytics?tour=${id}`} onClick={(e) => { e.preventDefault(); navigate(`/app/analytics?tour=${id}`); }}>Analytics</a>}
        <span class="hint">staging {published.staging ? `v${published.staging.version}` : '—'} · production {published.production ? `v${published.production.version}` : '—'}</span>
      </div>
      {message && <p class={message.kind === 'ok' ? 'ok' : 'error'} role={message.kind === 'ok' ? 'status' : 'alert'}>{message.text}</p>}
      {conflict && (
        <div class="conflict" role="alert">
          <p>This tour was changed by someone else since you opened it.</p>
          <button type="button" onClick={() => { setConflict(false); void load(false); }}>Reload theirs</button>
          <button type="button" class="primary" onClick={() => save(true)}>Overwrite with mine</button>
        </div>
      )}
      <form onSubmit={(e) => { e.preventDefault(); void save(); }}>
        {isTour && <Field label="Name" id="f-name" errors={err('name')}>
          <input id="f-name" value={doc.name} readOnly={ro} onInput={(e) => change({ ...doc, name: val(e) })} />
        </Field>}
        {!isTour && <JsonField doc={doc} readOnly={ro} errors={errors} onChange={(d) => change(d as TourDoc)} />}
        {!isTour && collection.path === 'themes' && <ThemePreview doc={doc} />}
        {isTour && <>
        <Field label="Audience rule" id="f-audience" errors={err('audience')} hint={'e.g. plan in ["pro","team"] and event("export") >= 1'}>
          <input id="f-audience" value={doc.audience ?? ''} readOnly={ro} onInput={(e) => change({ ...doc, audience: val(e) })} />
        </Field>
        <Field label="Page (path or glob; empty: every page)" id="f-page" errors={err('pages')}>
          <input id="f-page" value={doc.pages?.[0]?.pattern ?? ''} readOnly={ro}
            onInput={(e) => change({ ...doc, pages: val(e) ? [{ match: val(e).includes('*') ? 'glob' : 'exact', pattern: val(e) }] : [] })} />
        </Field>
        <Field label="Trigger" id="f-trigger" errors={err('trigger')}>
          <select id="f-trigger" disabled={ro} value={String(doc.trigger?.type ?? 'page')}
            onChange={(e) => change({ ...doc, trigger: val(e) === 'event' ? { type: 'event', event: 'my_event' } : { type: val(e) } })}>
            <option value="page">On page match</option><option value="manual">Manual (spotlight.start)</option><option value="event">On a tracked event</option>
          </select>
        </Field>
        {doc.trigger?.type === 'event' && (
          <Field label="Event name" id="f-event" errors={err('trigger.event')}>
            <input id="f-event" value={String(doc.trigger.event ?? '')} readOnly={ro} onInput={(e) => change({ ...doc, trigger: { type: 'event', event: val(e) } })} />
          </Field>
        )}
        <Field label="Frequency" id="f-frequency" errors={err('frequency')}>
          <select id="f-frequency" disabled={ro} value={String(doc.frequency?.type ?? 'once')} onChange={(e) => change({ ...doc, frequency: { type: val(e) } })}>
            <option value="once">Once</option><option value="until_completed">Until completed</option><option value="every_session">Every session</option>
          </select>
        </Field>
        <h2>Steps</h2>
        {err('steps').filter((e) => e.path === 'steps').map((e) => <p class="error">{e.message}</p>)}
        <ol class="steps">
          {doc.steps.map((s, i) => (
            <li key={i}>
              <fieldset>
                <legend>Step {i + 1}</legend>
                <Field label="Kind" id={`s${i}-kind`} errors={err(`steps[${i}].kind`)}>
                  <select id={`s${i}-kind`} disabled={ro} value={s.kind} onChange={(e) => setStep(i, { kind: val(e) })}>
                    {KINDS.map((k) => <option value={k}>{k}</option>)}
                  </select>
                </Field>
                <Field label="Title" id={`s${i}-title`} errors={err(`steps[${i}].title`)}>
                  <input id={`s${i}-title`} value={s.title ?? ''} readOnly={ro} onInput={(e) => setStep(i, { title: val(e) })} />
                </Field>
                <Field label="Body (p, b, i, em, strong, a, ul, ol, li, br, code, img)" id={`s${i}-body`} errors={err(`steps[${i}].body`)}>
                  <textarea id={`s${i}-body`} value={s.body ?? ''} readOnly={ro} onInput={(e) => setStep(i, { body: val(e) })} />
                </Field>
                {s.kind !== 'modal' && s.kind !== 'survey' && (
                  <>
                    <Field label="Target selectors (one per line, most stable first)" id={`s${i}-target`} errors={err(`steps[${i}].target`)}>
                      <textarea id={`s${i}-target`} value={(s.target?.selectors ?? []).join('\n')} readOnly={ro}
                        onInput={(e) => setStep(i, { target: { ...s.target, selectors: val(e).split('\n').map((x) => x.trim()).filter(Boolean) } })} />
                    </Field>
                    <Field label="Placement" id={`s${i}-placement`} errors={err(`steps[${i}].placement`)}>
                      <select id={`s${i}-placement`} disabled={ro} value={s.placement ?? 'auto'} onChange={(e) => setStep(i, { placement: val(e) })}>
                        {PLACEMENTS.map((p) => <option value={p}>{p}</option>)}
                      </select>
                    </Field>
                  </>
                )}
                {!ro && (
                  <div class="row">
                    <button type="button" disabled={i === 0} onClick={() => change({ ...doc, steps: move(doc.steps, i, i - 1) })}>Move up</button>
                    <button type="button" disabled={i === doc.steps.length - 1} onClick={() => change({ ...doc, steps: move(doc.steps, i, i + 1) })}>Move down</button>
                    <button type="button" onClick={() => change({ ...doc, steps: doc.steps.filter((_, j) => j !== i) })}>Remove step {i + 1}</button>
                  </div>
                )}
              </fieldset>
            </li>
          ))}
        </ol>
        </>}
        {!ro && (
          <div class="row">
            {isTour && <button type="button" onClick={() => change({ ...doc, steps: [...doc.steps, { kind: 'tooltip', title: '', body: '', target: { selectors: [] } }] })}>Add step</button>}
            <button type="submit" class="primary">Save</button>
            <button type="button" onClick={publish}>Publish to staging</button>
            <button type="button" onClick={promote} disabled={!published.staging}>Promote to production</button>
            <button type="button" onClick={duplicate}>Duplicate</button>
            <button type="button" onClick={archive} disabled={obj.status === 'archived'}>Archive</button>
          </div>
        )}
      </form>
      <h2>Versions</h2>
      {versions.length === 0 ? <p>Not published yet.</p> : (
        <table>
          <thead><tr><th scope="col">Version</th><th scope="col">Published by</th><th scope="col">When</th><th scope="col">Serving</th>{!ro && <th scope="col"><span class="sr">Actions</span></th>}</tr></thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version}>
                <td>v{v.version}</td><td>{v.created_by}</td><td>{new Date(v.created_at).toLocaleString()}</td>
                <td>{v.published_in.join(', ') || '—'}</td>
                {!ro && <td><button type="button" disabled={v.published_in.includes('production')} onClick={() => rollback(v.version)}>Roll back production to v{v.version}</button></td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function readDraft(id: string): { rev: number; doc: TourDoc } | null {
  try {
    const v = JSON.parse(localStorage.getItem(draftKey(id)) ?? 'null') as { rev?: number; doc?: TourDoc } | null;
    return v && typeof v.rev === 'number' && v.doc ? { rev: v.rev, doc: v.doc } : null;
  } catch {
    return null;
  }
}

function Field({ label, id, errors, hint, children }: { label: string; id: string; errors: FieldError[]; hint?: string; children: ComponentChildren }) {
  return (
    <div class={errors.length ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint && <small>{hint}</small>}
      {errors.map((e) => <p class="error" id={`${id}-error`}>{e.path}: {e.message}</p>)}
    </div>
  );
}

function val(e: Event): string {
  return (e.target as HTMLInputElement).value;
}

function move<T>(list: T[], from: number, to: number): T[] {
  const out = [...list];
  const [x] = out.splice(from, 1);
  out.splice(to, 0, x as T);
  return out;
}

/** The document as JSON; a syntax error is shown at the field and nothing is changed. */
function JsonField({ doc, readOnly, errors, onChange }: { doc: Record<string, unknown>; readOnly: boolean; errors: FieldError[]; onChange: (d: Record<string, unknown>) => void }) {
  const [text, setText] = useState(JSON.stringify(doc, null, 2));
  const [syntax, setSyntax] = useState<string | null>(null);
  const all = [...(syntax ? [{ path: 'document', message: syntax }] : []), ...errors];
  return (
    <Field label="Document (JSON)" id="f-doc" errors={all}>
      <textarea id="f-doc" class="code" rows={18} value={text} readOnly={readOnly} spellcheck={false}
        onInput={(e) => {
          const t = val(e);
          setText(t);
          try {
            const v: unknown = JSON.parse(t);
            if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('must be a JSON object');
            setSyntax(null);
            onChange(v as Record<string, unknown>);
          } catch (err) {
            setSyntax(err instanceof Error ? err.message : String(err));
          }
        }} />
    </Field>
  );
}

/** A tooltip and a modal drawn with the theme's tokens, as the SDK would. */
function ThemePreview({ doc }: { doc: Record<string, unknown> }) {
  const t = (doc.tokens ?? {}) as Record<string, string | number | undefined>;
  const colour = (v: unknown, d: string) => (typeof v === 'string' && /^(#[0-9a-f]{3,8}|(rgb|hsl)a?\([\d\s,.%/]+\))$/i.test(v) ? v : d);
  const box = { background: colour(t.background, '#fff'), color: colour(t.text, '#1f2328'), borderRadius: `${Number(t.radius_px ?? 8)}px`, padding: `${Number(t.spacing_px ?? 16)}px`, fontSize: `${Number(t.font_size_px ?? 14)}px` };
  const primary = colour(t.primary, '#3b5bdb');
  return (
    <div class="preview" aria-label="Theme preview" role="group">
      <div class="pv-card" style={box}><strong>Tooltip</strong><p>Step text in this theme.</p><button type="button" tabIndex={-1} style={{ background: primary, borderColor: primary, color: '#fff' }}>Next</button></div>
      <div class="pv-card pv-modal" style={box}><strong>Modal</strong><p>A centred step.</p><button type="button" tabIndex={-1} style={{ background: primary, borderColor: primary, color: '#fff' }}>Done</button></div>
    </div>
  );
}
