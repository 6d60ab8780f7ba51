// Surveys (tours with survey steps: results, NPS, and every response one by
// one, with CSV) and experiments (every tour and announcement running as an
// A/B test: arms, goal, conversion per arm with intervals and lift).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type ObjectView, type Page, type Schemas } from '../api';
import { Link } from '../router';
import { Experiment, Surveys, lastDays } from './Analytics';

type SurveyStats = Schemas['SurveyStats'];
type Responses = Schemas['SurveyResponses'];
type ExperimentStats = Schemas['ExperimentStats'];
type Doc = { steps?: { kind: string }[]; experiment?: { goal_event: string; arms: { name: string; weight: number; holdout?: boolean }[] } };

const RANGES: [string, number][] = [['Last 7 days', 7], ['Last 30 days', 30], ['Last 90 days', 90], ['Last 365 days', 365]];
const rangeQuery = (days: number) => lastDays(days);
const message = (e: unknown) => (e instanceof ApiError ? e.message : String(e));

export function SurveysPage() {
  const [tours, setTours] = useState<ObjectView[] | null>(null);
  const [tour, setTour] = useState('');
  const [days, setDays] = useState(30);
  const [stats, setStats] = useState<SurveyStats | null>(null);
  const [responses, setResponses] = useState<Responses['items']>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call<Page<ObjectView>>('GET', '/v1/admin/tours?limit=100').then((p) => {
      const withSurveys = p.items.filter((t) => (t.document as Doc).steps?.some((s) => s.kind === 'survey'));
      setTours(withSurveys);
      if (withSurveys[0]) setTour(withSurveys[0].id);
    }, (e: unknown) => setError(message(e)));
  }, []);
  const page = async (after: string | null) => {
    const q = rangeQuery(days);
    q.set('limit', '25');
    if (after) q.set('cursor', after);
    const r = await call<Responses>('GET', `/v1/admin/analytics/surveys/${tour}/responses?${q}`);
    setResponses((prev) => (after ? [...prev, ...r.items] : r.items));
    setCursor(r.next_cursor ?? null);
  };
  useEffect(() => {
    if (!tour) return;
    setError(null);
    call<SurveyStats>('GET', `/v1/admin/analytics/surveys/${tour}?${rangeQuery(days)}`).then(setStats, (e: unknown) => setError(message(e)));
    page(null).catch((e: unknown) => setError(message(e)));
  }, [tour, days]);
  const csv = () => { const q = rangeQuery(days); q.set('format', 'csv'); return `/v1/admin/analytics/surveys/${tour}/responses?${q}`; };
  return (
    <section aria-labelledby="surveys-title">
      <div class="bar">
        <h1 id="surveys-title">Surveys</h1>
        {tours && tours.length > 0 && (
          <select aria-label="Survey" value={tour} onChange={(e) => setTour((e.target as HTMLSelectElement).value)}>
            {tours.map((t) => <option value={t.id}>{t.name}</option>)}
          </select>
        )}
        <select aria-label="Date range" value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
          {RANGES.map(([l, d]) => <option value={String(d)}>{l}</option>)}
        </select>
        {tour && <a href={csv()} download="survey-responses.csv">Export responses (CSV)</a>}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {tours === null ? <p>Loading…</p> : tours.length === 0 ? <p>No tour has a survey step yet. Add a step of kind “Survey question” to a tour.</p> : (
        <>
          {stats && <Surveys stats={stats} />}
          <h2>Responses</h2>
          {responses.length === 0 ? <p>No responses in this range.</p> : (
            <table class="responses">
              <thead><tr><th scope="col">When</th><th scope="col">End user</th><th scope="col">Question</th><th scope="col">Answer</th></tr></thead>
              <tbody>{responses.map((r) => (
                <tr key={r.event_id}>
                  <td>{new Date(String(r.at)).toLocaleString()}</td>
                  <td><Link href={`/app/users?id=${encodeURIComponent(r.user_id)}`}>{r.user_id}</Link></td>
                  <td>{r.step != null ? `${r.step + 1}. ` : ''}{r.question ?? ''}</td>
                  <td>{Array.isArray(r.answer) ? r.answer.join(', ') : String(r.answer ?? '')}</td>
                </tr>
              ))}</tbody>
            </table>
          )}
          {cursor && <button type="button" onClick={() => page(cursor).catch((e: unknown) => setError(message(e)))}>Load more responses</button>}
        </>
      )}
    </section>
  );
}

export function ExperimentsPage() {
  const [items, setItems] = useState<{ o: ObjectView; kind: 'tours' | 'content' }[] | null>(null);
  const [chosen, setChosen] = useState('');
  const [days, setDays] = useState(30);
  const [stats, setStats] = useState<ExperimentStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    Promise.all((['tours', 'content'] as const).map((k) => call<Page<ObjectView>>('GET', `/v1/admin/${k}?limit=100`).then((p) => p.items.map((o) => ({ o, kind: k })))))
      .then((lists) => {
        const all = lists.flat().filter((x) => (x.o.document as Doc).experiment);
        setItems(all);
        const wanted = new URLSearchParams(location.search).get('id');
        setChosen(all.find((x) => x.o.id === wanted)?.o.id ?? all[0]?.o.id ?? '');
      }, (e: unknown) => setError(message(e)));
  }, []);
  useEffect(() => {
    if (!chosen) return;
    setStats(null);
    call<ExperimentStats>('GET', `/v1/admin/analytics/experiments/${chosen}?${rangeQuery(days)}`).then(setStats, (e: unknown) => setError(message(e)));
  }, [chosen, days]);
  return (
    <section aria-labelledby="experiments-title">
      <div class="bar">
        <h1 id="experiments-title">Experiments</h1>
        <select aria-label="Date range" value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
          {RANGES.map(([l, d]) => <option value={String(d)}>{l}</option>)}
        </select>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {items === null ? <p>Loading…</p> : items.length === 0 ? <p>No experiments yet. Turn on “Run as an A/B experiment” in a tour or an announcement.</p> : (
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Arms</th><th scope="col">Goal</th><th scope="col">Status</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
          <tbody>{items.map(({ o, kind }) => {
            const x = (o.document as Doc).experiment!;
            return (
              <tr key={o.id} aria-selected={o.id === chosen ? 'true' : undefined}>
                <td><Link href={`/app/${kind}/${o.id}`}>{o.name}</Link></td>
                <td>{kind === 'tours' ? 'tour' : 'announcement'}</td>
                <td>{x.arms.map((a) => `${a.name}${a.holdout ? ' (hold-out)' : ''} ×${a.weight}`).join(', ')}</td>
                <td>{x.goal_event}</td>
                <td><span class={`status ${o.status}`}>{o.status}</span></td>
                <td><button type="button" aria-pressed={o.id === chosen ? 'true' : 'false'} onClick={() => setChosen(o.id)}>Results for {o.name}</button></td>
              </tr>
            );
          })}</tbody>
        </table>
      )}
      {stats && <Experiment stats={stats} />}
    </section>
  );
}
