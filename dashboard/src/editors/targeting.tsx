// Who sees an object, where and when: audience (an inline rule or a saved
// audience), page rules, trigger, frequency, priority, schedule and theme —
// shared by tours, announcements, checklists and launchers (each kind has
// the parts its document has).
import { Choice, Field, List, Num, Text, fromLocalInput, toLocalInput, val, type EditorProps, type Json } from './fields';
import { TargetEditor, type Target } from './target';

type PageRule = { match: string; pattern: string; host?: string };
export type Targeted = Json & {
  audience?: string; audience_id?: string; pages?: PageRule[]; trigger?: Json; frequency?: Json;
  priority?: number; schedule?: { start?: string; end?: string }; theme_id?: string;
};

export function Targeting<D extends Targeted>({ doc, change, err, ro, refs, parts }: EditorProps<D> & { parts: { trigger?: boolean; frequency?: boolean; schedule?: boolean } }) {
  const set = (patch: Partial<Targeted>) => {
    const next: Json = { ...doc, ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined || v === '') delete next[k];
    change(next as D);
  };
  const trigger = String(doc.trigger?.type ?? 'page');
  const frequency = String(doc.frequency?.type ?? 'once');
  return (
    <fieldset class="targeting">
      <legend>Audience, pages and timing</legend>
      <Choice label="Saved audience" id="f-audience-id" value={doc.audience_id ?? ''} ro={ro} errors={err('audience_id')}
        options={[['', 'None (everyone, or the rule below)'], ...refs.audiences.map((a): [string, string] => [a.id, a.name])]}
        onChange={(v) => set({ audience_id: v || undefined })} />
      <Text label="Audience rule" id="f-audience" value={doc.audience} ro={ro} errors={err('audience')}
        hint={'e.g. plan in ["pro", "team"] and event("export") >= 1 — both must match when a saved audience is chosen too'}
        onChange={(v) => set({ audience: v })} />
      <h3>Pages</h3>
      <p class="hint">Empty: every page. Paths like /app/settings, globs like /app/*/settings, or a regular expression.</p>
      <List<PageRule> items={doc.pages ?? []} ro={ro} noun="Page rule" max={20} blank={() => ({ match: 'exact', pattern: '/' })}
        onChange={(pages) => set({ pages })}
        render={(p, put, i) => (
          <div class="row">
            <Choice label="Match" id={`pg${i}-match`} value={p.match} ro={ro} errors={err(`pages[${i}].match`)}
              options={[['exact', 'Exact path'], ['glob', 'Glob'], ['regex', 'Regular expression']]} onChange={(match) => put({ ...p, match })} />
            <Text label="Pattern" id={`pg${i}-pattern`} value={p.pattern} ro={ro} errors={err(`pages[${i}].pattern`)} onChange={(pattern) => put({ ...p, pattern })} />
            <Text label="Host (optional)" id={`pg${i}-host`} value={p.host} ro={ro} errors={err(`pages[${i}].host`)}
              onChange={(host) => { const { host: _, ...rest } = p; put(host ? { ...rest, host } : rest); }} />
          </div>
        )} />
      {parts.trigger && (
        <>
          <Choice label="Trigger" id="f-trigger" value={trigger} ro={ro} errors={err('trigger').filter((e) => e.path === 'trigger')}
            options={[['page', 'On page match'], ['click', 'On a click of an element'], ['event', 'On a tracked event'], ['manual', 'Manual (spotlight.start)']]}
            onChange={(v) => set({ trigger: v === 'event' ? { type: 'event', event: '' } : v === 'click' ? { type: 'click', target: { selectors: [] } } : { type: v } })} />
          {trigger === 'event' && <Text label="Event name" id="f-event" value={String(doc.trigger?.event ?? '')} ro={ro} errors={err('trigger.event')}
            onChange={(event) => set({ trigger: { type: 'event', event } })} />}
          {trigger === 'click' && <TargetEditor id="f-trigger-target" value={doc.trigger?.target as Target | undefined} ro={ro} errors={err('trigger.target')}
            pageUrl={refs.pageUrl} setPageUrl={refs.setPageUrl} onChange={(target) => set({ trigger: { type: 'click', target } })} />}
        </>
      )}
      {parts.frequency && (
        <div class="row">
          <Choice label="Frequency" id="f-frequency" value={frequency} ro={ro} errors={err('frequency').filter((e) => e.path === 'frequency')}
            options={[['once', 'Once'], ['once_per_account', 'Once per account'], ['until_completed', 'Until completed'], ['every_session', 'Every session'], ['every_n_days', 'Every few days']]}
            onChange={(v) => set({ frequency: v === 'every_n_days' ? { type: v, days: 7 } : { type: v } })} />
          {frequency === 'every_n_days' && <Num label="Days" id="f-days" min={1} max={365} value={Number(doc.frequency?.days ?? 7)} ro={ro} errors={err('frequency.days')}
            onChange={(days) => set({ frequency: { type: 'every_n_days', days: days ?? 1 } })} />}
        </div>
      )}
      <div class="row">
        <Num label="Priority (higher shows first)" id="f-priority" value={doc.priority} ro={ro} errors={err('priority')} onChange={(priority) => set({ priority })} />
        <Choice label="Theme" id="f-theme" value={doc.theme_id ?? ''} ro={ro} errors={err('theme_id')}
          options={[['', 'Default theme'], ...refs.themes.map((t): [string, string] => [t.id, t.name])]} onChange={(v) => set({ theme_id: v || undefined })} />
      </div>
      {parts.schedule && (
        <div class="row">
          <Field label="Show from" id="f-start" errors={err('schedule.start')}>
            <input id="f-start" type="datetime-local" readOnly={ro} value={toLocalInput(doc.schedule?.start)}
              onInput={(e) => set({ schedule: clean({ ...doc.schedule, start: fromLocalInput(val(e)) }) })} />
          </Field>
          <Field label="Until" id="f-end" errors={err('schedule.end').concat(err('schedule').filter((e) => e.path === 'schedule'))}>
            <input id="f-end" type="datetime-local" readOnly={ro} value={toLocalInput(doc.schedule?.end)}
              onInput={(e) => set({ schedule: clean({ ...doc.schedule, end: fromLocalInput(val(e)) }) })} />
          </Field>
        </div>
      )}
    </fieldset>
  );
}

function clean(s: { start?: string; end?: string }): { start?: string; end?: string } | undefined {
  const out: { start?: string; end?: string } = {};
  if (s.start) out.start = s.start;
  if (s.end) out.end = s.end;
  return out.start || out.end ? out : undefined;
}

