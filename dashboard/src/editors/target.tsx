// A step's target: its fingerprint (candidate selectors, most stable first,
// and optional visible text), typed, or picked on the tenant's own page: "Pick
// on page" opens the page with `?spotlight_pick=1`; the SDK's editor (loaded
// there for in-app admins) starts its element picker and posts the
// fingerprint back to this window, which accepts it from that window only.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Field, val, type FieldError } from './fields';

export type Target = { selectors: string[]; text?: string; frame?: string };

/** `url` with `param=1` added (absolute URLs only). */
export function withParam(url: string, param: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
    u.searchParams.set(param, '1');
    return u.toString();
  } catch {
    return null;
  }
}

export function TargetEditor({ id, value, onChange, errors, ro, pageUrl, setPageUrl }: { id: string; value: Target | undefined; onChange: (t: Target) => void; errors: FieldError[]; ro: boolean; pageUrl: string; setPageUrl: (u: string) => void }) {
  const [status, setStatus] = useState<string | null>(null);
  const popup = useRef<Window | null>(null);
  const current = useRef(value);
  current.current = value;
  useEffect(() => {
    const onMessage = (e: MessageEvent) => {
      if (!popup.current || e.source !== popup.current) return;
      const d = e.data as { type?: string; target?: Target } | null;
      if (d?.type !== 'spotlight:element_picked' || !d.target || !Array.isArray(d.target.selectors)) return;
      const selectors = d.target.selectors.filter((s): s is string => typeof s === 'string').slice(0, 10);
      onChange({ ...current.current, selectors, ...(typeof d.target.text === 'string' && d.target.text ? { text: d.target.text.slice(0, 200) } : {}) });
      setStatus(`Picked on ${new URL(e.origin).host}: ${selectors[0] ?? ''}`);
      popup.current = null;
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, [onChange]);
  const pick = () => {
    const url = withParam(pageUrl, 'spotlight_pick');
    if (!url) { setStatus('Enter the full address of a page of your app (https://…) to pick on.'); return; }
    popup.current = window.open(url, 'spotlight-pick');
    setStatus(popup.current
      ? 'Click the element on your page (Esc cancels). You need to be an in-app admin there: Settings → In-app admins.'
      : 'The page could not be opened (is a pop-up blocker on?).');
  };
  const t = value ?? { selectors: [] };
  return (
    <div class="target">
      <Field label="Target selectors (one per line, most stable first)" id={`${id}-selectors`} errors={errors}>
        <textarea id={`${id}-selectors`} rows={3} class="code" value={t.selectors.join('\n')} readOnly={ro} spellcheck={false}
          onInput={(e) => onChange({ ...t, selectors: val(e).split('\n').map((x) => x.trim()).filter(Boolean) })} />
      </Field>
      <Field label="Target text (optional: the element's visible text, to tell look-alikes apart)" id={`${id}-text`} errors={[]}>
        <input id={`${id}-text`} value={t.text ?? ''} readOnly={ro} onInput={(e) => { const v = val(e); const { text: _, ...rest } = t; onChange(v ? { ...rest, text: v } : rest); }} />
      </Field>
      {!ro && (
        <div class="row pick">
          <label for={`${id}-page`} class="sr">Page to pick on</label>
          <input id={`${id}-page`} type="url" placeholder="https://app.example.com/page" value={pageUrl} onInput={(e) => setPageUrl(val(e))} />
          <button type="button" onClick={pick}>Pick on page</button>
        </div>
      )}
      {status && <p class="hint" role="status">{status}</p>}
    </div>
  );
}
