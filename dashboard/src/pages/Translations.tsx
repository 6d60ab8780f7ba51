// Translations: download every translatable string of tours and
// announcements for a language (XLIFF 2.0 for translators' tools, or JSON),
// and upload the translated file back. Each object's accepted strings become a
// new draft revision (publish as usual); the refused ones are listed.
import { useState } from 'preact/hooks';
import { ApiError, upload, type Schemas } from '../api';

type Report = Schemas['TranslationReport'];

export function Translations({ canEdit }: { canEdit: boolean }) {
  const ids = new URLSearchParams(location.search).get('ids') ?? '';
  const [locale, setLocale] = useState('fr');
  const [format, setFormat] = useState('xliff');
  const [scope, setScope] = useState(ids ? 'ids' : 'all');
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = new URLSearchParams({ locale: locale.trim(), format });
  if (scope === 'ids') query.set('ids', ids);
  if (scope === 'production' || scope === 'staging') query.set('environment', scope);
  const send = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setError(null); setReport(null);
    const type = /\.json$/i.test(file.name) ? 'application/json' : 'application/xliff+xml';
    try { setReport(await upload<Report>('/v1/admin/translations', file, type, () => {})); }
    catch (err) { setError(err instanceof ApiError ? err.message : String(err)); }
  };
  const refused = report?.strings.filter((s) => !['applied', 'sanitized', 'empty'].includes(s.status)) ?? [];
  return (
    <section aria-labelledby="translations-title" class="settings">
      <h1 id="translations-title">Translations</h1>
      <p class="hint">Viewers of a language get its texts; <code>fr-CA</code> falls back to <code>fr</code>, then to the default text.</p>
      <h2>Download</h2>
      <div class="row">
        <label for="tr-locale">Language</label>
        <input id="tr-locale" value={locale} size={8} onInput={(e) => setLocale((e.target as HTMLInputElement).value)} />
        <select aria-label="Format" value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value)}>
          <option value="xliff">XLIFF 2.0</option><option value="json">JSON</option>
        </select>
        <select aria-label="Which objects" value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value)}>
          <option value="all">All tours and announcements</option>
          <option value="production">What production serves</option>
          <option value="staging">What staging serves</option>
          {ids && <option value="ids">This object</option>}
        </select>
        <a class="button primary" href={`/v1/admin/translations?${query}`} download={`spotlight-${locale.trim()}.${format === 'xliff' ? 'xlf' : 'json'}`}>Download</a>
      </div>
      {canEdit && (
        <>
          <h2>Upload translations</h2>
          <form class="bar" onSubmit={send}>
            <input type="file" aria-label="Translated file" accept=".xlf,.xliff,.json" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
            <button type="submit" class="primary" disabled={!file}>Upload</button>
          </form>
        </>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {report && (
        <div role="status">
          <p class="ok">{report.applied} strings applied in {report.locale}; {report.refused} refused. {report.objects.length} drafts updated — publish them to show the translations.</p>
          {refused.length > 0 && (
            <table>
              <caption>Refused strings</caption>
              <thead><tr><th scope="col">String</th><th scope="col">Why</th></tr></thead>
              <tbody>{refused.map((s) => <tr key={s.id}><td><code>{s.id}</code></td><td>{s.status}{s.message ? `: ${s.message}` : ''}</td></tr>)}</tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
