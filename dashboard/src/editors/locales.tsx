// Translations: per locale (fr, pt-BR, …) the text that differs from the
// default; anything left empty falls back to it (then to the language).
import { useState } from 'preact/hooks';
import { Field, val, type FieldError } from './fields';

export type Texts = Record<string, { title?: string; body?: string; buttons?: string[] }>;

const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export function Locales({ locales, onChange, slots, perStep, err, ro }: {
  /** Tours: a list of texts per locale, one per step; announcements: one. */
  perStep: boolean;
  locales: Record<string, unknown> | undefined;
  onChange: (l: Record<string, unknown> | undefined) => void;
  /** The texts to translate: one per step for tours, one for announcements. */
  slots: { label: string; title?: string; body?: string; buttons?: string[] }[];
  err: (p: string) => FieldError[];
  ro: boolean;
}) {
  const [code, setCode] = useState('');
  const [bad, setBad] = useState<string | null>(null);
  const all = locales ?? {};
  const get = (loc: string, i: number): { title?: string; body?: string; buttons?: string[] } => {
    const v = all[loc];
    return ((perStep ? (v as unknown[] | undefined)?.[i] : v) ?? {}) as { title?: string; body?: string; buttons?: string[] };
  };
  const put = (loc: string, i: number, t: { title?: string; body?: string; buttons?: string[] }) => {
    const clean = Object.fromEntries(Object.entries(t).filter(([, v]) => v !== '' && v !== undefined && !(Array.isArray(v) && v.every((x) => !x))));
    const value = perStep ? slots.map((_, j) => (j === i ? clean : get(loc, j))) : clean;
    onChange({ ...all, [loc]: value });
  };
  const add = () => {
    const c = code.trim();
    if (!LOCALE.test(c)) { setBad('A language tag: fr, de, pt-BR, zh-Hant…'); return; }
    if (all[c]) { setBad(`${c} is there already.`); return; }
    setBad(null);
    setCode('');
    onChange({ ...all, [c]: perStep ? slots.map(() => ({})) : {} });
  };
  return (
    <fieldset class="locales">
      <legend>Translations</legend>
      {Object.keys(all).length === 0 && <p class="hint">No translations: everyone sees the default text.</p>}
      {Object.keys(all).map((loc) => (
        <details key={loc} open>
          <summary>{loc}</summary>
          {err(`locales.${loc}`).map((e) => <p class="error">{e.path}: {e.message}</p>)}
          {slots.map((s, i) => {
            const t = get(loc, i);
            const path = perStep ? `locales.${loc}[${i}]` : `locales.${loc}`;
            return (
              <div class="slot" key={i}>
                {slots.length > 1 && <h4>{s.label}</h4>}
                <Field label={`Title (${loc})`} id={`l-${loc}-${i}-title`} errors={err(`${path}.title`)}>
                  <input id={`l-${loc}-${i}-title`} placeholder={s.title} value={t.title ?? ''} readOnly={ro} onInput={(e) => put(loc, i, { ...t, title: val(e) })} />
                </Field>
                <Field label={`Body HTML (${loc})`} id={`l-${loc}-${i}-body`} errors={err(`${path}.body`)}>
                  <textarea id={`l-${loc}-${i}-body`} rows={2} placeholder={s.body} value={t.body ?? ''} readOnly={ro} onInput={(e) => put(loc, i, { ...t, body: val(e) })} />
                </Field>
                {(s.buttons ?? []).length > 0 && (
                  <Field label={`Button labels (${loc}, one per line, in order)`} id={`l-${loc}-${i}-buttons`} errors={err(`${path}.buttons`)}>
                    <textarea id={`l-${loc}-${i}-buttons`} rows={2} placeholder={(s.buttons ?? []).join('\n')} value={(t.buttons ?? []).join('\n')} readOnly={ro}
                      onInput={(e) => put(loc, i, { ...t, buttons: val(e).split('\n') })} />
                  </Field>
                )}
              </div>
            );
          })}
          {!ro && <button type="button" onClick={() => { const { [loc]: _, ...rest } = all; onChange(Object.keys(rest).length ? rest : undefined); }}>Remove {loc}</button>}
        </details>
      ))}
      {!ro && (
        <div class="row">
          <label for="l-new" class="sr">New locale</label>
          <input id="l-new" placeholder="fr, de, pt-BR" value={code} onInput={(e) => setCode(val(e))} />
          <button type="button" onClick={add}>Add translation</button>
        </div>
      )}
      {bad && <p class="error" role="alert">{bad}</p>}
    </fieldset>
  );
}
