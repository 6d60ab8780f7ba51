// The tenant overview: active and new end users, events, tour starts and
// completions over the last 30 days, a daily trend, and the top tours.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { ApiError, call, type Schemas } from '../api';
import { Link } from '../router';

type Overview = Schemas['Overview'];

export function OverviewPage() {
  const [o, setO] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chart = useRef<HTMLDivElement>(null);
  useEffect(() => {
    call<Overview>('GET', '/v1/admin/analytics/overview').then(setO, (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));
  }, []);
  useEffect(() => {
    if (!o || !chart.current) return;
    const plot = new uPlot({
      width: Math.min(900, chart.current.clientWidth || 900), height: 220,
      series: [{}, { label: 'Active users', stroke: '#3b5bdb' }, { label: 'Tour starts', stroke: '#2f9e44' }, { label: 'Tour completions', stroke: '#e8590c' }],
    }, [o.series.map((p) => Date.parse(String(p.bucket)) / 1000), o.series.map((p) => p.active_users ?? 0), o.series.map((p) => p.tour_starts), o.series.map((p) => p.tour_completions)], chart.current);
    return () => plot.destroy();
  }, [o]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!o) return <p>Loading…</p>;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <p class="hint">Last 30 days, {o.environment}.</p>
      <dl class="kpis">
        <div><dt>Active users</dt><dd>{o.active_users}</dd></div>
        <div><dt>New users</dt><dd>{o.new_users}</dd></div>
        <div><dt>Events</dt><dd>{o.events}</dd></div>
        <div><dt>Tour starts</dt><dd>{o.tour_starts}</dd></div>
        <div><dt>Tour completions</dt><dd>{o.tour_completions}</dd></div>
        <div><dt>Completion rate</dt><dd>{(o.completion_rate * 100).toFixed(1)} %</dd></div>
      </dl>
      <h2>Trend</h2>
      <div ref={chart} class="chart" role="img" aria-label="Active users, tour starts and completions per day" />
      <h2>Top tours</h2>
      {o.top_tours.length === 0 ? <p>No tour has started yet.</p> : (
        <table>
          <thead><tr><th scope="col">Tour</th><th scope="col">Starts</th><th scope="col">Completions</th><th scope="col">Completion rate</th></tr></thead>
          <tbody>{o.top_tours.map((t) => (
            <tr key={t.id}><td><Link href={`/app/tours/${t.id}`}>{t.name}</Link></td><td>{t.starts}</td><td>{t.completions}</td><td>{(t.completion_rate * 100).toFixed(1)} %</td></tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}
