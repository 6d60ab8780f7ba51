// Form pieces every editor uses: a labelled field that shows the server's
// errors for its path, and small typed inputs. Errors are matched by the
// path the server names (`steps[1].target`, `schedule.end`, …).
import type { ComponentChildren } from 'preact';

export type Json = Record<string, unknown>;
export type FieldError = { path: string; message: string };

/** What an editor gets: the document, a way to change it, errors by path, read-only. */
export interface EditorProps<D> {
  doc: D;
  change: (next: D) => void;
  err: (path: string) => FieldError[];
  ro: boolean;
  refs: Refs;
}

/** Other objects an editor may point at (names for selects). */
export interface Refs {
  tours: { id: string; name: string }[];
  checklists: { id: string; name: string }[];
  themes: { id: string; name: string }[];
  audiences: { id: string; name: string }[];
  /** The page the tour is previewed or picked on (from its page rule or typed). */
  pageUrl: string;
  setPageUrl: (url: string) => void;
}

export function val(e: Event): string {
  return (e.target as HTMLInputElement).value;
}

export function Field({ label, id, errors, hint, children }: { label: string; id: string; errors: FieldError[]; hint?: ComponentChildren; children: ComponentChildren }) {
  return (
    <div class={errors.length ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint && <small id={`${id}-hint`}>{hint}</small>}
      {errors.map((e) => <p class="error" id={`${id}-error`}>{e.path}: {e.message}</p>)}
    </div>
  );
}

export function Text({ label, id, value, onChange, errors, ro, hint, placeholder }: { label: string; id: string; value: string | undefined; onChange: (v: string) => void; errors: FieldError[]; ro: boolean; hint?: string; placeholder?: string }) {
  return (
    <Field label={label} id={id} errors={errors} hint={hint}>
      <input id={id} value={value ?? ''} readOnly={ro} placeholder={placeholder} aria-invalid={errors.length ? 'true' : undefined}
        aria-describedby={errors.length ? `${id}-error` : undefined} onInput={(e) => onChange(val(e))} />
    </Field>
  );
}

export function Num({ label, id, value, onChange, errors, ro, min, max }: { label: string; id: string; value: number | undefined; onChange: (v: number | undefined) => void; errors: FieldError[]; ro: boolean; min?: number; max?: number }) {
  return (
    <Field label={label} id={id} errors={errors}>
      <input id={id} type="number" min={min} max={max} value={value ?? ''} readOnly={ro}
        onInput={(e) => { const v = val(e); onChange(v === '' ? undefined : Number(v)); }} />
    </Field>
  );
}

export function Choice({ label, id, value, options, onChange, errors, ro }: { label: string; id: string; value: string; options: [string, string][]; onChange: (v: string) => void; errors: FieldError[]; ro: boolean }) {
  return (
    <Field label={label} id={id} errors={errors}>
      <select id={id} disabled={ro} value={value} onChange={(e) => onChange(val(e))}>
        {options.map(([v, l]) => <option value={v}>{l}</option>)}
      </select>
    </Field>
  );
}

export function Check({ label, id, checked, onChange, ro }: { label: string; id: string; checked: boolean; onChange: (v: boolean) => void; ro: boolean }) {
  return (
    <div class="field check">
      <input id={id} type="checkbox" checked={checked} disabled={ro} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} />
      <label for={id}>{label}</label>
    </div>
  );
}

/** A list with add, remove and reorder; `render` draws one item. */
export function List<T>({ items, onChange, ro, blank, render, noun, max }: { items: T[]; onChange: (items: T[]) => void; ro: boolean; blank: () => T; render: (item: T, set: (v: T) => void, i: number) => ComponentChildren; noun: string; max?: number }) {
  const set = (i: number, v: T) => onChange(items.map((x, j) => (j === i ? v : x)));
  return (
    <div class="list">
      <ol>
        {items.map((item, i) => (
          <li key={i}>
            <fieldset>
              <legend>{noun} {i + 1}</legend>
              {render(item, (v) => set(i, v), i)}
              {!ro && (
                <div class="row">
                  <button type="button" disabled={i === 0} onClick={() => onChange(move(items, i, i - 1))}>Move up</button>
                  <button type="button" disabled={i === items.length - 1} onClick={() => onChange(move(items, i, i + 1))}>Move down</button>
                  <button type="button" onClick={() => onChange(items.filter((_, j) => j !== i))}>Remove {noun.toLowerCase()} {i + 1}</button>
                </div>
              )}
            </fieldset>
          </li>
        ))}
      </ol>
      {!ro && (max === undefined || items.length < max) && <button type="button" onClick={() => onChange([...items, blank()])}>Add {noun.toLowerCase()}</button>}
    </div>
  );
}

export function move<T>(list: T[], from: number, to: number): T[] {
  const out = [...list];
  const [x] = out.splice(from, 1);
  out.splice(to, 0, x as T);
  return out;
}

/** `2026-01-31T09:00` (local, for datetime-local) from RFC 3339, and back. */
export function toLocalInput(rfc3339: string | undefined): string {
  if (!rfc3339) return '';
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return '';
  const off = d.getTimezoneOffset() * 60_000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}

export function fromLocalInput(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The object with `key` set, or without it when `v` is undefined. */
export function withOptional<T extends Json>(o: T, key: string, v: unknown): T {
  const out: Json = { ...o };
  if (v === undefined) delete out[key];
  else out[key] = v;
  return out as T;
}
