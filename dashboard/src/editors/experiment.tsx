// An A/B experiment on a tour or announcement: weighted arms (hold-outs see
// nothing) and the tracked event that counts as a conversion. Results live on
// the analytics page.
import { Check, List, Num, Text, type FieldError } from './fields';
import { navigate } from '../router';

type Arm = { name: string; weight: number; holdout?: boolean };
export type Experiment = { arms: Arm[]; goal_event: string };

export function ExperimentEditor({ value, onChange, err, ro, resultsFor }: { value: Experiment | undefined; onChange: (e: Experiment | undefined) => void; err: (p: string) => FieldError[]; ro: boolean; resultsFor?: string }) {
  return (
    <fieldset class="experiment">
      <legend>Experiment</legend>
      <Check label="Run as an A/B experiment" id="x-on" checked={!!value} ro={ro}
        onChange={(on) => onChange(on ? { arms: [{ name: 'control', weight: 1, holdout: true }, { name: 'variant', weight: 1 }], goal_event: '' } : undefined)} />
      {value && (
        <>
          <Text label="Goal event (a tracked event that counts as a conversion)" id="x-goal" value={value.goal_event} ro={ro} errors={err('experiment.goal_event')}
            onChange={(goal_event) => onChange({ ...value, goal_event })} />
          {err('experiment.arms').filter((e) => e.path === 'experiment.arms').map((e) => <p class="error">{e.message}</p>)}
          <List<Arm> items={value.arms} ro={ro} noun="Arm" max={10} blank={() => ({ name: `arm-${value.arms.length + 1}`, weight: 1 })}
            onChange={(arms) => onChange({ ...value, arms })}
            render={(a, put, i) => (
              <div class="row">
                <Text label="Name" id={`x${i}-name`} value={a.name} ro={ro} errors={err(`experiment.arms[${i}].name`)} onChange={(name) => put({ ...a, name })} />
                <Num label="Weight" id={`x${i}-weight`} min={1} max={1000} value={a.weight} ro={ro} errors={err(`experiment.arms[${i}].weight`)} onChange={(w) => put({ ...a, weight: w ?? 1 })} />
                <Check label="Hold-out (shown nothing)" id={`x${i}-holdout`} checked={!!a.holdout} ro={ro} onChange={(holdout) => put({ ...a, holdout })} />
              </div>
            )} />
          {resultsFor && <p><a href={`/app/experiments?id=${resultsFor}`} onClick={(e) => { e.preventDefault(); navigate(`/app/experiments?id=${resultsFor}`); }}>Experiment results</a></p>}
        </>
      )}
    </fieldset>
  );
}
