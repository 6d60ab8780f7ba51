// B2B accounts: the environment's accounts by id (search by prefix, pages of
// 50), and one account — its attributes, what its members were shown, its
// members' tracked events and its members (each a link to the end user). Admins
// and owners import accounts from a CSV or NDJSON file.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type ObjectView, type Page, type Schemas } from '../api';
import { Link, navigate, useHref } from '../router';
import { Import } from './Users';

type Summary = Schemas['AccountSummaryView'];
type Account = Schemas['AccountView'];

const message = (e: unknown) => (e instanceof ApiError ? e.message : String(e));

export function Accounts({ canAdmin = false }: { canAdmin?: boolean }) {
  const id = new URLSearchParams(useHref().split('?')[1] ?? '').get('id');
  const [env, setEnv] = useState('production');
  return id ? <AccountPage key={`${id}:${env}`} id={id} env={env} /> : <AccountList env={env} setEnv={setEnv} canAdmin={canAdmin} />;
}

function AccountList({ env, setEnv, canAdmin }: { env: string; setEnv: (e: string) => void; canAdmin: boolean }) {
  const [q, setQ] = useState('');
  const [items, setItems] = useState<Summary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = (cursor?: string) => {
    const p = new URLSearchParams({ environment: env });
    if (q.trim()) p.set('q', q.trim());
    if (cursor) p.set('cursor', cursor);
    call<Page<Summary>>('GET', `/v1/admin/accounts?${p}`).then((page) => {
      setItems((prev) => (cursor ? [...(prev ?? []), ...page.items] : page.items));
      setNext(page.next_cursor ?? null);
      setError(null);
    }, (e: unknown) => setError(message(e)));
  };
  useEffect(() => load(), [env]);
  return (
    <section aria-labelledby="accounts-title">
      <form class="bar" onSubmit={(e) => { e.preventDefault(); load(); }}>
        <h1 id="accounts-title">Accounts</h1>
        <input type="search" aria-label="Account id starts with" placeholder="Account id starts with…" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <select aria-label="Environment" value={env} onChange={(e) => setEnv((e.target as HTMLSelectElement).value)}>
          <option value="production">production</option><option value="staging">staging</option>
        </select>
        <button type="submit" class="primary">Search</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {items && (items.length === 0 ? <p>No accounts yet: they appear when the SDK calls <code>group()</code>, a verified token names one, or your backend sets one.</p> : (
        <table>
          <thead><tr><th scope="col">Account</th><th scope="col">Members</th><th scope="col">Attributes</th><th scope="col">Last seen</th></tr></thead>
          <tbody>{items.map((a) => (
            <tr key={a.account_id}>
              <th scope="row"><Link href={`/app/accounts?id=${encodeURIComponent(a.account_id)}`}>{a.account_id}</Link></th>
              <td>{a.member_count}</td>
              <td>{Object.entries(a.attributes).slice(0, 4).map(([k, v]) => <code key={k}>{k}={JSON.stringify(v)} </code>)}</td>
              <td>{new Date(String(a.last_seen)).toLocaleString()}</td>
            </tr>
          ))}</tbody>
        </table>
      ))}
      {next && <p><button type="button" onClick={() => load(next)}>More accounts</button></p>}
      {canAdmin && <Import env={env} of="accounts" onDone={() => load()} />}
    </section>
  );
}

function AccountPage({ id, env }: { id: string; env: string }) {
  const [account, setAccount] = useState<Account | null>(null);
  const [names, setNames] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call<Account>('GET', `/v1/admin/accounts/${encodeURIComponent(id)}?environment=${env}`).then(setAccount, (e: unknown) => {
      setError(e instanceof ApiError && e.status === 404 ? `No account “${id}” in ${env}.` : message(e));
    });
  }, []);
  useEffect(() => {
    const ids = Object.keys(account?.shown ?? {});
    if (!ids.length) return;
    void Promise.all(['tours', 'content'].map((k) => call<Page<ObjectView>>('GET', `/v1/admin/${k}?ids=${ids.join(',')}`).then((p) => p.items, () => [])))
      .then((lists) => setNames(Object.fromEntries(lists.flat().map((o) => [o.id, o.name]))));
  }, [account]);
  return (
    <section aria-labelledby="account-title">
      <div class="bar">
        <h1 id="account-title">Account {id}</h1>
        <button type="button" onClick={() => navigate('/app/accounts')}>All accounts</button>
        <Link href={`/app/analytics?account=${encodeURIComponent(id)}`}>Analytics of this account</Link>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {account && (
        <div class="profile">
          <dl class="kpis">
            <div><dt>Members</dt><dd>{account.member_count}</dd></div>
            <div><dt>First seen</dt><dd>{new Date(String(account.first_seen)).toLocaleString()}</dd></div>
            <div><dt>Last seen</dt><dd>{new Date(String(account.last_seen)).toLocaleString()}</dd></div>
          </dl>
          <h2>Attributes</h2>
          {Object.keys(account.attributes).length === 0 ? <p>None.</p> : (
            <table><tbody>{Object.entries(account.attributes).map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td><code>{JSON.stringify(v)}</code></td></tr>)}</tbody></table>
          )}
          <h2>Shown to its members</h2>
          {Object.keys(account.shown).length === 0 ? <p>Nothing shown yet.</p> : (
            <table>
              <thead><tr><th scope="col">Tour or announcement</th><th scope="col">Times shown</th></tr></thead>
              <tbody>{Object.entries(account.shown).map(([oid, n]) => <tr key={oid}><td>{names[oid] ?? <code>{oid}</code>}</td><td>{n}</td></tr>)}</tbody>
            </table>
          )}
          <h2>Tracked events</h2>
          {Object.keys(account.event_counts).length === 0 ? <p>None.</p> : (
            <table>
              <thead><tr><th scope="col">Event</th><th scope="col">Count</th></tr></thead>
              <tbody>{Object.entries(account.event_counts).sort(([, a], [, b]) => b - a).map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td>{v}</td></tr>)}</tbody>
            </table>
          )}
          <h2>Members</h2>
          {account.members.length === 0 ? <p>No members yet.</p> : (
            <table>
              <caption>{account.member_count > account.members.length ? `The ${account.members.length} seen last of ${account.member_count}` : `${account.member_count} member${account.member_count === 1 ? "" : "s"}`}</caption>
              <thead><tr><th scope="col">User</th><th scope="col">Joined</th><th scope="col">Last seen</th></tr></thead>
              <tbody>{account.members.map((m) => (
                <tr key={m.user_id}><th scope="row"><Link href={`/app/users?id=${encodeURIComponent(m.user_id)}`}>{m.user_id}</Link></th>
                  <td>{new Date(String(m.joined_at)).toLocaleString()}</td><td>{new Date(String(m.last_seen)).toLocaleString()}</td></tr>
              ))}</tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
