// Themes: design tokens with a live preview of a tooltip and a modal drawn as
// the SDK draws them; audiences: a rule with inline parse errors and a live
// "who matches" count over the environment's end users.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Schemas } from '../api';
import { Field, Num, Text, val, type EditorProps, type FieldError } from './fields';

type Tokens = Record<string, string | number | undefined>;
export type ThemeDoc = { name: string; tokens?: Tokens; dark?: Tokens };

const COLOURS: [string, string][] = [['primary', 'Primary (buttons, progress)'], ['background', 'Background'], ['text', 'Text'], ['muted', 'Muted text'], ['backdrop', 'Backdrop (rgba)']];
const HEX = /^#[0-9a-f]{6}$/i;

export function ThemeEditor({ doc, change, err, ro }: EditorProps<ThemeDoc>) {
  const t = doc.tokens ?? {};
  const set = (k: string, v: string | number | undefined) => {
    const tokens: Tokens = { ...t, [k]: v };
    if (v === undefined || v === '') delete tokens[k];
    change({ ...doc, tokens });
  };
  return (
    <>
      <Text label="Name" id="f-name" value={doc.name} ro={ro} errors={err('name')} onChange={(name) => change({ ...doc, name })} />
      <fieldset>
        <legend>Colours</legend>
        {COLOURS.map(([k, label]) => {
          const v = typeof t[k] === 'string' ? String(t[k]) : '';
          return (
            <div class="row colour" key={k}>
              <Text label={label} id={`t-${k}`} value={v} ro={ro} errors={err(`tokens.${k}`)} placeholder="#3b5bdb, rgb(…)" onChange={(x) => set(k, x)} />
              {HEX.test(v) || !v ? <input type="color" aria-label={`${label}: pick`} disabled={ro} value={v || '#000000'} onInput={(e) => set(k, val(e))} /> : null}
            </div>
          );
        })}
      </fieldset>
      <fieldset>
        <legend>Type and shape</legend>
        <Text label="Font family" id="t-font_family" value={t.font_family as string | undefined} ro={ro} errors={err('tokens.font_family')} placeholder="system-ui, sans-serif" onChange={(x) => set('font_family', x)} />
        <div class="row">
          <Num label="Font size (px)" id="t-font_size_px" min={10} max={24} value={t.font_size_px as number | undefined} ro={ro} errors={err('tokens.font_size_px')} onChange={(x) => set('font_size_px', x)} />
          <Num label="Corner radius (px)" id="t-radius_px" min={0} max={32} value={t.radius_px as number | undefined} ro={ro} errors={err('tokens.radius_px')} onChange={(x) => set('radius_px', x)} />
          <Num label="Spacing (px)" id="t-spacing_px" min={0} max={48} value={t.spacing_px as number | undefined} ro={ro} errors={err('tokens.spacing_px')} onChange={(x) => set('spacing_px', x)} />
        </div>
        <Text label="Shadow" id="t-shadow" value={t.shadow as string | undefined} ro={ro} errors={err('tokens.shadow')} placeholder="0 8px 24px rgba(0,0,0,.18)" onChange={(x) => set('shadow', x)} />
      </fieldset>
      {err('tokens').filter((e) => e.path === 'tokens').map((e) => <p class="error">{e.message}</p>)}
      <ThemePreview tokens={t} />
    </>
  );
}

/** A tooltip and a modal drawn with the theme's tokens, as the SDK would. */
export function ThemePreview({ tokens: t }: { tokens: Tokens }) {
  const colour = (v: unknown, d: string) => (typeof v === 'string' && /^(#[0-9a-f]{3,8}|(rgb|hsl)a?\([\d\s,.%/]+\))$/i.test(v) ? v : d);
  const box = { background: colour(t.background, '#fff'), color: colour(t.text, '#1f2328'), borderRadius: `${Number(t.radius_px ?? 8)}px`, padding: `${Number(t.spacing_px ?? 16)}px`, fontSize: `${Number(t.font_size_px ?? 14)}px`, fontFamily: typeof t.font_family === 'string' && /^[\w\s,'"-]+$/.test(t.font_family) ? t.font_family : undefined };
  const primary = colour(t.primary, '#3b5bdb');
  return (
    <div class="preview" aria-label="Theme preview" role="group">
      <div class="pv-card" style={box}><strong>Tooltip</strong><p>Step text in this theme.</p><button type="button" tabIndex={-1} style={{ background: primary, borderColor: primary, color: '#fff' }}>Next</button></div>
      <div class="pv-card pv-modal" style={box}><strong>Modal</strong><p>A centred step.</p><button type="button" tabIndex={-1} style={{ background: primary, borderColor: primary, color: '#fff' }}>Done</button></div>
    </div>
  );
}

export type AudienceDoc = { name: string; description?: string; rule: string };
type Matches = Schemas['MatchView'];

export function AudienceEditor({ doc, change, err, ro }: EditorProps<AudienceDoc>) {
  const [env, setEnv] = useState('production');
  const [matches, setMatches] = useState<Matches | null>(null);
  const [parse, setParse] = useState<FieldError[]>([]);
  // Checked as you type (debounced): the same parser as on save, and the count.
  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      call<Matches>('POST', '/v1/admin/audiences/matches', { rule: doc.rule, environment: env }).then(
        (m) => { if (live) { setMatches(m); setParse([]); } },
        (e: unknown) => {
          if (!live) return;
          setMatches(null);
          setParse(e instanceof ApiError ? ((e.details?.fields as FieldError[] | undefined) ?? [{ path: 'rule', message: e.message }]) : []);
        },
      );
    }, 300);
    return () => { live = false; clearTimeout(t); };
  }, [doc.rule, env]);
  const errors = parse.length ? parse : err('rule');
  return (
    <>
      <Text label="Name" id="f-name" value={doc.name} ro={ro} errors={err('name')} onChange={(name) => change({ ...doc, name })} />
      <Text label="Description" id="a-description" value={doc.description} ro={ro} errors={err('description')} onChange={(description) => change({ ...doc, description })} />
      <Field label="Rule" id="a-rule" errors={errors} hint={<>Attributes, event counts and dates: <code>plan in ["pro", "team"] and event("export") &gt;= 1 and signed_up_days_ago &lt; 30</code>;
          the user's account (B2B): <code>account.plan = "team" and account.event("sso_connected") = 0</code></>}>
        <textarea id="a-rule" class="code" rows={4} spellcheck={false} value={doc.rule} readOnly={ro} aria-invalid={errors.length ? 'true' : undefined}
          aria-describedby={errors.length ? 'a-rule-error' : 'a-rule-hint'} onInput={(e) => change({ ...doc, rule: val(e) })} />
      </Field>
      <div class="row matches">
        <label for="a-env">Count end users in</label>
        <select id="a-env" value={env} onChange={(e) => setEnv(val(e))}><option value="production">production</option><option value="staging">staging</option></select>
        <p role="status" aria-live="polite">
          {matches ? <>Matches <strong>{matches.matched}</strong> of {matches.scanned}{matches.truncated ? '+' : ''} end users{matches.accounts_matched ? <> in <strong>{matches.accounts_matched}</strong> account{matches.accounts_matched === 1 ? '' : 's'}</> : null}{matches.sample.length ? <>, e.g. {matches.sample.slice(0, 3).join(', ')}</> : null}.</> : parse.length ? 'Fix the rule to see who matches.' : 'Counting…'}
        </p>
      </div>
    </>
  );
}
