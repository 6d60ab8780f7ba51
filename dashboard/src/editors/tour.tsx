// The tour editor: steps (kind, title, body in rich text, target picked or
// typed, placement, buttons, advance rule, backdrop, survey), then audience,
// pages, trigger, frequency, schedule, theme, translations and experiment.
import { Check, Choice, Field, List, Num, Text, val, withOptional, type EditorProps, type Json } from './fields';
import { RichText } from './richtext';
import { TargetEditor, type Target } from './target';
import { Targeting, type Targeted } from './targeting';
import { Locales } from './locales';
import { ExperimentEditor, type Experiment } from './experiment';

type Button = { action: string; label: string; url?: string; step?: number };
type Survey = { type: string; question: string; choices?: string[]; min?: number; max?: number };
export type Step = Json & {
  kind: string; title?: string; body?: string; target?: Target; placement?: string; buttons?: Button[];
  advance_on?: string; backdrop?: boolean; interactive?: boolean; page_url?: string; wait_for_target_ms?: number; survey?: Survey;
};
export type TourDoc = Targeted & { name: string; steps: Step[]; locales?: Record<string, unknown>; experiment?: Experiment };

const KINDS: [string, string][] = [['tooltip', 'Tooltip on an element'], ['modal', 'Modal (centred)'], ['hotspot', 'Hotspot (beacon)'], ['highlight', 'Highlight an element'], ['survey', 'Survey question']];
const PLACEMENTS = ['auto', 'top', 'bottom', 'left', 'right', 'top-start', 'top-end', 'bottom-start', 'bottom-end', 'left-start', 'left-end', 'right-start', 'right-end'];
const SURVEYS: [string, string][] = [['nps', 'NPS (0–10)'], ['stars', 'Stars (1–5)'], ['scale', 'Numeric scale'], ['single_choice', 'Single choice'], ['multiple_choice', 'Multiple choice'], ['text', 'Free text']];
const needsTarget = (k: string) => k === 'tooltip' || k === 'hotspot' || k === 'highlight';

export function TourEditor(p: EditorProps<TourDoc> & { id: string }) {
  const { doc, change, err, ro } = p;
  const setStep = (i: number, s: Step) => change({ ...doc, steps: doc.steps.map((x, j) => (j === i ? s : x)) });
  return (
    <>
      <Text label="Name" id="f-name" value={doc.name} ro={ro} errors={err('name')} onChange={(name) => change({ ...doc, name })} />
      <h2>Steps</h2>
      {err('steps').filter((e) => e.path === 'steps').map((e) => <p class="error">{e.message}</p>)}
      <List<Step> items={doc.steps} ro={ro} noun="Step" max={50} blank={() => ({ kind: 'tooltip', title: '', body: '', target: { selectors: [] } })}
        onChange={(steps) => change({ ...doc, steps })}
        render={(s, _put, i) => <StepFields step={s} i={i} set={(v) => setStep(i, v)} {...p} />} />
      <Targeting<TourDoc> {...p} parts={{ trigger: true, frequency: true, schedule: true }} />
      <Locales locales={doc.locales} perStep err={err} ro={ro}
        slots={doc.steps.map((s, i) => ({ label: `Step ${i + 1}${s.title ? `: ${s.title}` : ''}`, title: s.title, body: s.body, buttons: (s.buttons ?? []).map((b) => b.label) }))}
        onChange={(locales) => change(withOptional(doc, 'locales', locales))} />
      <ExperimentEditor value={doc.experiment} err={err} ro={ro} resultsFor={p.id} onChange={(x) => change(withOptional(doc, 'experiment', x))} />
    </>
  );
}

function StepFields({ step: s, i, set, err, ro, refs }: EditorProps<TourDoc> & { step: Step; i: number; set: (s: Step) => void }) {
  const path = `steps[${i}]`;
  return (
    <>
      <div class="row">
        <Choice label="Kind" id={`s${i}-kind`} value={s.kind} options={KINDS} ro={ro} errors={err(`${path}.kind`)}
          onChange={(kind) => set(kind === 'survey' ? { ...s, kind, survey: s.survey ?? { type: 'nps', question: 'How likely are you to recommend us?' } } : { ...s, kind })} />
        {needsTarget(s.kind) && <Choice label="Placement" id={`s${i}-placement`} value={s.placement ?? 'auto'} ro={ro} errors={err(`${path}.placement`)}
          options={PLACEMENTS.map((x): [string, string] => [x, x])} onChange={(placement) => set({ ...s, placement })} />}
      </div>
      <Text label="Title" id={`s${i}-title`} value={s.title} ro={ro} errors={err(`${path}.title`)} onChange={(title) => set({ ...s, title })} />
      <RichText label="Body" id={`s${i}-body`} value={s.body ?? ''} ro={ro} errors={err(`${path}.body`)} onChange={(body) => set({ ...s, body })} />
      {needsTarget(s.kind) && <TargetEditor id={`s${i}-target`} value={s.target} ro={ro} errors={err(`${path}.target`)} pageUrl={refs.pageUrl} setPageUrl={refs.setPageUrl}
        onChange={(target) => set({ ...s, target })} />}
      {s.kind === 'survey' && s.survey && <SurveyFields survey={s.survey} path={`${path}.survey`} id={`s${i}-survey`} err={err} ro={ro} set={(survey) => set({ ...s, survey })} />}
      <h4>Buttons</h4>
      <p class="hint">None: Back, Next and Done as the step's place in the tour needs.</p>
      <List<Button> items={s.buttons ?? []} ro={ro} noun="Button" max={4} blank={() => ({ action: 'next', label: 'Next' })}
        onChange={(buttons) => set(withOptional(s, 'buttons', buttons.length ? buttons : undefined))}
        render={(b, put, j) => (
          <div class="row">
            <Choice label="Action" id={`s${i}-b${j}-action`} value={b.action} ro={ro} errors={err(`${path}.buttons[${j}].action`)}
              options={[['next', 'Next'], ['back', 'Back'], ['skip', 'Skip the tour'], ['done', 'Done'], ['link', 'Open a link'], ['goto', 'Go to a step']]}
              onChange={(action) => put(action === 'link' ? { action, label: b.label, url: b.url ?? 'https://' } : action === 'goto' ? { action, label: b.label, step: b.step ?? 0 } : { action, label: b.label })} />
            <Text label="Label" id={`s${i}-b${j}-label`} value={b.label} ro={ro} errors={err(`${path}.buttons[${j}].label`)} onChange={(label) => put({ ...b, label })} />
            {b.action === 'link' && <Text label="URL" id={`s${i}-b${j}-url`} value={b.url} ro={ro} errors={err(`${path}.buttons[${j}].url`)} onChange={(url) => put({ ...b, url })} />}
            {b.action === 'goto' && <Num label="Step number" id={`s${i}-b${j}-step`} min={1} value={(b.step ?? 0) + 1} ro={ro} errors={err(`${path}.buttons[${j}].step`)} onChange={(n) => put({ ...b, step: Math.max(0, (n ?? 1) - 1) })} />}
          </div>
        )} />
      <details>
        <summary>Advanced</summary>
        <div class="row">
          <Choice label="Advance" id={`s${i}-advance`} value={s.advance_on ?? 'button'} ro={ro} errors={err(`${path}.advance_on`)}
            options={[['button', 'With the buttons'], ['click', 'When the target is clicked'], ['input', 'When the target gets input']]} onChange={(advance_on) => set({ ...s, advance_on })} />
          <Num label="Wait for the target (ms)" id={`s${i}-wait`} min={0} max={60000} value={s.wait_for_target_ms} ro={ro} errors={err(`${path}.wait_for_target_ms`)}
            onChange={(w) => set(withOptional(s, 'wait_for_target_ms', w))} />
        </div>
        <Text label="Page of this step (multi-page tours: a path, e.g. /app/projects)" id={`s${i}-page`} value={s.page_url} ro={ro} errors={err(`${path}.page_url`)}
          onChange={(v) => set(withOptional(s, 'page_url', v || undefined))} />
        <Check label="Dim the page behind the step" id={`s${i}-backdrop`} checked={s.backdrop !== false} ro={ro} onChange={(backdrop) => set({ ...s, backdrop })} />
        <Check label="Let the user use the highlighted element" id={`s${i}-interactive`} checked={!!s.interactive} ro={ro} onChange={(interactive) => set({ ...s, interactive })} />
      </details>
    </>
  );
}

function SurveyFields({ survey, path, id, set, err, ro }: { survey: Survey; path: string; id: string; set: (s: Survey) => void; err: EditorProps<TourDoc>['err']; ro: boolean }) {
  const choice = survey.type === 'single_choice' || survey.type === 'multiple_choice';
  return (
    <fieldset class="survey-fields">
      <legend>Survey</legend>
      <div class="row">
        <Choice label="Question type" id={`${id}-type`} value={survey.type} options={SURVEYS} ro={ro} errors={err(`${path}.type`)}
          onChange={(type) => set({ type, question: survey.question, ...(type === 'single_choice' || type === 'multiple_choice' ? { choices: survey.choices ?? ['Yes', 'No'] } : {}), ...(type === 'scale' ? { min: 1, max: 10 } : {}) })} />
        {survey.type === 'scale' && <Num label="From" id={`${id}-min`} value={survey.min} ro={ro} errors={err(`${path}.min`)} onChange={(min) => set({ ...survey, min })} />}
        {survey.type === 'scale' && <Num label="To" id={`${id}-max`} value={survey.max} ro={ro} errors={err(`${path}.max`)} onChange={(max) => set({ ...survey, max })} />}
      </div>
      <Text label="Question" id={`${id}-question`} value={survey.question} ro={ro} errors={err(`${path}.question`)} onChange={(question) => set({ ...survey, question })} />
      {choice && (
        <Field label="Choices (one per line)" id={`${id}-choices`} errors={err(`${path}.choices`)}>
          <textarea id={`${id}-choices`} rows={3} value={(survey.choices ?? []).join('\n')} readOnly={ro} onInput={(e) => set({ ...survey, choices: val(e).split('\n') })} />
        </Field>
      )}
    </fieldset>
  );
}
