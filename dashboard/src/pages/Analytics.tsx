// Tour analytics: starts, completions, completion rate, median time to
// complete, the step funnel with drop-off, a time series (hourly or daily) over
// a chosen range, and CSV export of both.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { ApiError, call, type ObjectView, type Page, type Schemas } from '../api';

type Stats = Schemas['TourStats'];
type SurveyStats = Schemas['SurveyStats'];
type ExperimentStats = Schemas['ExperimentStats'];

const RANGES: [string, number][] = [['Last 24 hours', 1], ['Last 7 days', 7], ['Last 30 days', 30], ['Last 90 days', 90], ['Custom dates…', 0]];
const day = (d: Date) => d.toISOString().slice(0, 10);

/** `from`/`to` for the last `days` days (to a minute ahead, so what just happened counts), with a grain. */
export function lastDays(days: number, grain?: string): URLSearchParams {
  const to = new Date(Date.now() + 60_000);
  const q = new URLSearchParams({ from: new Date(to.getTime() - days * 86_400_000).toISOString(), to: to.toISOString() });
  if (grain) q.set('grain', grain);
  return q;
}

type AccountFilter = { account: string; setAccount: (a: string) => void };

/** One account's figures only (kept by day); empty: every account's and none. */
function AccountField({ account, setAccount }: AccountFilter) {
  return <input type="search" aria-label="Account" placeholder="All accounts" value={account}
    onChange={(e) => setAccount((e.target as HTMLInputElement).value.trim())} />;
}

export function Analytics() {
  const [kind, setKind] = useState<'tours' | 'content' | 'checklists'>('tours');
  const [account, setAccount] = useState(new URLSearchParams(location.search).get('account') ?? '');
  const filter = { account, setAccount };
  const tabs = (
    <div class="tabs" role="group" aria-label="Analytics of">
      {([['tours', 'Tours'], ['content', 'Announcements'], ['checklists', 'Checklists']] as const).map(([k, label]) => (
        <button type="button" aria-pressed={kind === k ? 'true' : 'false'} onClick={() => setKind(k)}>{label}</button>
      ))}
    </div>
  );
  return kind === 'tours' ? <TourAnalytics tabs={tabs} filter={filter} /> : <ObjectAnalytics key={kind} kind={kind} tabs={tabs} filter={filter} />;
}

function TourAnalytics({ tabs, filter }: { tabs: preact.ComponentChildren; filter: AccountFilter }) {
  const { account } = filter;
  const [tours, setTours] = useState<ObjectView[]>([]);
  const [tour, setTour] = useState(new URLSearchParams(location.search).get('tour') ?? '');
  const [days, setDays] = useState(7);
  // Custom range: whole UTC days, `to` included.
  const [from, setFrom] = useState(day(new Date(Date.now() - 13 * 86_400_000)));
  const [until, setUntil] = useState(day(new Date()));
  const [stats, setStats] = useState<Stats | null>(null);
  const [survey, setSurvey] = useState<SurveyStats | null>(null);
  const [experiment, setExperiment] = useState<ExperimentStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call<Page<ObjectView>>('GET', '/v1/admin/tours?limit=100').then((p) => {
      setTours(p.items);
      if (!tour && p.items[0]) setTour(p.items[0].id);
    }, (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));
  }, []);
  const customDays = Math.max(1, (Date.parse(until) - Date.parse(from)) / 86_400_000 + 1);
  const grain = (days || customDays) <= 2 && !account ? 'hour' : 'day';
  const range = () => {
    const q = days === 0
      ? new URLSearchParams({ from: `${from}T00:00:00Z`, to: new Date(Date.parse(until) + 86_400_000).toISOString(), grain })
      : lastDays(days, grain);
    if (account) q.set('account', account);
    return q;
  };
  useEffect(() => {
    if (!tour) return;
    let live = true;
    call<Stats>('GET', `/v1/admin/analytics/tours/${tour}?${range()}`).then(
      (s) => { if (live) { setStats(s); setError(null); } },
      (e: unknown) => { if (live) setError(e instanceof ApiError ? e.message : String(e)); },
    );
    // Survey steps, when the tour has any.
    call<SurveyStats>('GET', `/v1/admin/analytics/surveys/${tour}?${range()}`).then(
      (s) => { if (live) setSurvey(s.steps.some((x) => x.type) ? s : null); },
      () => { if (live) setSurvey(null); },
    );
    // Experiment results, when the tour runs as an A/B test.
    const doc = tours.find((t) => t.id === tour)?.document as { experiment?: unknown } | undefined;
    if (doc?.experiment) {
      call<ExperimentStats>('GET', `/v1/admin/analytics/experiments/${tour}?${range()}`).then(
        (x) => { if (live) setExperiment(x); },
        () => { if (live) setExperiment(null); },
      );
    } else setExperiment(null);
    return () => { live = false; };
  }, [tour, days, tours, from, until, account]);
  const csv = (table: string) => { const q = range(); q.set('format', 'csv'); q.set('table', table); return `/v1/admin/analytics/tours/${tour}?${q}`; };
  return (
    <section aria-labelledby="analytics-title">
      <div class="bar">
        <h1 id="analytics-title">Analytics</h1>
        <select aria-label="Tour" value={tour} onChange={(e) => setTour((e.target as HTMLSelectElement).value)}>
          {tours.map((t) => <option value={t.id}>{t.name}</option>)}
        </select>
        <select aria-label="Date range" value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
          {RANGES.map(([label, d]) => <option value={String(d)}>{label}</option>)}
        </select>
        {days === 0 && (
          <>
            <label for="an-from">From</label>
            <input id="an-from" type="date" value={from} max={until} onInput={(e) => { const v = (e.target as HTMLInputElement).value; if (v) setFrom(v); }} />
            <label for="an-to">to</label>
            <input id="an-to" type="date" value={until} min={from} onInput={(e) => { const v = (e.target as HTMLInputElement).value; if (v) setUntil(v); }} />
          </>
        )}
        <AccountField {...filter} />
        {tour && <a href={csv('series')} download="tour-series.csv">Export series (CSV)</a>}
        {tour && <a href={csv('funnel')} download="tour-funnel.csv">Export funnel (CSV)</a>}
      </div>
      {tabs}
      {error && <p class="error" role="alert">{error}</p>}
      {!stats ? (tours.length ? <p>Loading…</p> : <p>No tours yet.</p>) : (
        <>
          <dl class="kpis">
            <div><dt>Viewers</dt><dd>{stats.unique_viewers}</dd></div>
            <div><dt>Starts</dt><dd>{stats.starts}</dd></div>
            <div><dt>Completions</dt><dd>{stats.completions}</dd></div>
            <div><dt>Dismissals</dt><dd>{stats.dismissals}</dd></div>
            <div><dt>Completion rate</dt><dd>{(stats.completion_rate * 100).toFixed(1)} %</dd></div>
            <div><dt>Median time to complete</dt><dd>{stats.median_time_to_complete_ms == null ? '—' : `${(stats.median_time_to_complete_ms / 1000).toFixed(1)} s`}</dd></div>
          </dl>
          <h2>Funnel</h2>
          <table class="funnel">
            <thead><tr><th scope="col">Step</th><th scope="col">Viewers</th><th scope="col">Views</th><th scope="col">Completed</th><th scope="col">Drop-off</th><th scope="col"><span class="sr">Bar</span></th></tr></thead>
            <tbody>
              {stats.funnel.map((f) => {
                // Drop-off is counted per person: the bar shows viewers, not views.
                const top = Math.max(1, stats.funnel[0]?.viewers ?? 1);
                return (
                  <tr key={f.step}>
                    <td>{f.step + 1}. {f.title ?? ''}</td><td>{f.viewers}</td><td>{f.views}</td><td>{f.completions}</td><td>{(f.drop_off * 100).toFixed(0)} %</td>
                    <td><meter min={0} max={top} value={f.viewers} aria-label={`Step ${f.step + 1}: ${f.viewers} of ${top} viewers`} /></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <h2>Over time</h2>
          <Series stats={stats} />
          {survey && <Surveys stats={survey} />}
          {experiment && <Experiment stats={experiment} />}
        </>
      )}
    </section>
  );
}

function Series({ stats }: { stats: Stats }) {
  return <Chart source={stats} label={`Starts, completions and dismissals per ${stats.grain}`} xs={stats.series.map((p) => Date.parse(String(p.bucket)) / 1000)}
    series={[['Starts', '#3b5bdb', stats.series.map((p) => p.starts)], ['Completions', '#2f9e44', stats.series.map((p) => p.completions)], ['Dismissals', '#e8590c', stats.series.map((p) => p.dismissals)]]} />;
}

export function Surveys({ stats }: { stats: SurveyStats }) {
  return (
    <>
      <h2>Survey answers</h2>
      {stats.steps.filter((s) => s.type).map((s) => {
        const top = Math.max(1, ...s.distribution.map((d) => d.count));
        return (
          <div class="survey" key={s.step}>
            <h3>{s.step + 1}. {s.question}</h3>
            <p>{s.responses} response{s.responses === 1 ? '' : 's'}{s.nps != null ? ` · NPS ${s.nps.toFixed(0)}` : ''}{s.average != null ? ` · average ${s.average.toFixed(1)}` : ''}</p>
            {s.distribution.length > 0 && (
              <table>
                <thead><tr><th scope="col">Answer</th><th scope="col">Count</th><th scope="col"><span class="sr">Bar</span></th></tr></thead>
                <tbody>{s.distribution.map((d) => (
                  <tr key={d.answer}><td>{d.answer}</td><td>{d.count}</td><td><meter min={0} max={top} value={d.count} aria-label={`${d.answer}: ${d.count}`} /></td></tr>
                ))}</tbody>
              </table>
            )}
            {s.texts.length > 0 && <ul class="texts">{s.texts.map((t) => <li key={`${t.user_id}-${String(t.at)}`}>“{t.text}” <small>{t.user_id}, {new Date(String(t.at)).toLocaleString()}</small></li>)}</ul>}
          </div>
        );
      })}
    </>
  );
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export function Experiment({ stats }: { stats: ExperimentStats }) {
  return (
    <>
      <h2>Experiment: conversion on “{stats.goal_event}”</h2>
      <table>
        <thead><tr><th scope="col">Arm</th><th scope="col">Exposed</th><th scope="col">Converted</th><th scope="col">Rate (95 % interval)</th><th scope="col">Lift over {stats.control ?? 'control'} (95 %)</th></tr></thead>
        <tbody>{stats.arms.map((a) => (
          <tr key={a.arm}>
            <td>{a.arm}{a.holdout ? ' (hold-out)' : ''}</td><td>{a.exposed}</td><td>{a.converted}</td>
            <td>{pct(a.conversion_rate)} ({pct(a.ci_low)} – {pct(a.ci_high)})</td>
            <td>{a.lift ? `${a.lift.difference >= 0 ? '+' : ''}${pct(a.lift.difference)} (${pct(a.lift.low)} – ${pct(a.lift.high)})` : '—'}</td>
          </tr>
        ))}</tbody>
      </table>
    </>
  );
}

type ContentStats = Schemas['ContentStats'];
type ChecklistStats = Schemas['ChecklistStats'];

/** Announcements (views, clicks, dismissals, click rate, series) and checklists (users, completion per item). */
function ObjectAnalytics({ kind, tabs, filter }: { kind: 'content' | 'checklists'; tabs: preact.ComponentChildren; filter: AccountFilter }) {
  const { account } = filter;
  const [items, setItems] = useState<ObjectView[] | null>(null);
  const [id, setId] = useState('');
  const [days, setDays] = useState(30);
  const [content, setContent] = useState<ContentStats | null>(null);
  const [checklist, setChecklist] = useState<ChecklistStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const noun = kind === 'content' ? 'Announcement' : 'Checklist';
  useEffect(() => {
    call<Page<ObjectView>>('GET', `/v1/admin/${kind}?limit=100`).then((p) => { setItems(p.items); if (p.items[0]) setId(p.items[0].id); },
      (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));
  }, []);
  const query = () => {
    const q = lastDays(days, days <= 2 && !account ? 'hour' : 'day');
    if (account) q.set('account', account);
    return q;
  };
  useEffect(() => {
    if (!id) return;
    let live = true;
    const fail = (e: unknown) => { if (live) setError(e instanceof ApiError ? e.message : String(e)); };
    if (kind === 'content') call<ContentStats>('GET', `/v1/admin/analytics/content/${id}?${query()}`).then((s) => { if (live) { setContent(s); setError(null); } }, fail);
    else call<ChecklistStats>('GET', `/v1/admin/analytics/checklists/${id}?${query()}`).then((s) => { if (live) { setChecklist(s); setError(null); } }, fail);
    return () => { live = false; };
  }, [id, days, account]);
  const csv = () => { const q = query(); q.set('format', 'csv'); return `/v1/admin/analytics/${kind === 'content' ? 'content' : 'checklists'}/${id}?${q}`; };
  return (
    <section aria-labelledby="analytics-title">
      <div class="bar">
        <h1 id="analytics-title">Analytics</h1>
        <select aria-label={noun} value={id} onChange={(e) => setId((e.target as HTMLSelectElement).value)}>
          {(items ?? []).map((t) => <option value={t.id}>{t.name}</option>)}
        </select>
        <select aria-label="Date range" value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
          {RANGES.filter(([, d]) => d > 0).map(([label, d]) => <option value={String(d)}>{label}</option>)}
        </select>
        <AccountField {...filter} />
        {id && <a href={csv()} download={`${kind}.csv`}>Export (CSV)</a>}
      </div>
      {tabs}
      {error && <p class="error" role="alert">{error}</p>}
      {items === null ? <p>Loading…</p> : items.length === 0 ? <p>No {noun.toLowerCase()}s yet.</p> : kind === 'content' ? (content && (
        <>
          <dl class="kpis">
            <div><dt>Views</dt><dd>{content.views}</dd></div>
            <div><dt>Viewers</dt><dd>{content.unique_viewers}</dd></div>
            <div><dt>Clicks</dt><dd>{content.clicks}</dd></div>
            <div><dt>Dismissals</dt><dd>{content.dismissals}</dd></div>
            <div><dt>Click rate</dt><dd>{(content.click_rate * 100).toFixed(1)} %</dd></div>
          </dl>
          <h2>Over time</h2>
          <Chart source={content} label={`Views, clicks and dismissals per ${content.grain}`} xs={content.series.map((p) => Date.parse(String(p.bucket)) / 1000)}
            series={[['Views', '#3b5bdb', content.series.map((p) => p.views)], ['Clicks', '#2f9e44', content.series.map((p) => p.clicks)], ['Dismissals', '#e8590c', content.series.map((p) => p.dismissals)]]} />
        </>
      )) : (checklist && (
        <>
          <dl class="kpis">
            <div><dt>Users</dt><dd>{checklist.users}</dd></div>
            <div><dt>Completed</dt><dd>{checklist.completed}</dd></div>
            <div><dt>Completion rate</dt><dd>{(checklist.completion_rate * 100).toFixed(1)} %</dd></div>
          </dl>
          <h2>Items</h2>
          <table>
            <thead><tr><th scope="col">Item</th><th scope="col">Completions</th><th scope="col">Of users</th><th scope="col"><span class="sr">Bar</span></th></tr></thead>
            <tbody>{checklist.items.map((it) => (
              <tr key={it.id}><td>{it.title}</td><td>{it.completions}</td><td>{(it.completion_rate * 100).toFixed(0)} %</td>
                <td><meter min={0} max={1} value={it.completion_rate} aria-label={`${it.title}: ${(it.completion_rate * 100).toFixed(0)} %`} /></td></tr>
            ))}</tbody>
          </table>
        </>
      ))}
    </section>
  );
}

/** A uPlot line chart, drawn again when `source` (the answer it shows) changes. */
function Chart({ source, label, xs, series }: { source: unknown; label: string; xs: number[]; series: [string, string, number[]][] }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const plot = new uPlot({
      width: Math.min(900, el.current.clientWidth || 900), height: 240,
      series: [{}, ...series.map(([l, stroke]) => ({ label: l, stroke }))], axes: [{}, { label: 'Count' }],
    }, [xs, ...series.map(([, , v]) => v)], el.current);
    return () => plot.destroy();
  }, [source]);
  return <div ref={el} class="chart" role="img" aria-label={label} />;
}
