// The dashboard's entry: who is signed in decides between the login page and
// the app shell; navigation uses the History API under /app/.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, currentUser, logout, whenSignedOut, type Me } from './api';
import { Login } from './pages/Login';
import { Accept } from './pages/Accept';
import { COLLECTIONS, Objects } from './pages/Objects';
import { Editor } from './pages/Editor';
import { Audit } from './pages/Audit';
import { Analytics } from './pages/Analytics';
import { Users } from './pages/Users';
import { Accounts } from './pages/Accounts';
import { OverviewPage } from './pages/Overview';
import { SettingsPage } from './pages/Settings';
import { Webhooks } from './pages/Webhooks';
import { Members } from './pages/Members';
import { Security } from './pages/Security';
import { Approvals } from './pages/Approvals';
import { Translations } from './pages/Translations';
import { ExperimentsPage, SurveysPage } from './pages/Research';
import { Link, navigate, usePath } from './router';


const canEdit = (me: Me) => me.role !== 'viewer';

function Page({ path, me, refresh }: { path: string; me: Me; refresh: () => void }) {
  // A tenant that requires a second factor: nothing else until it is on.
  if (me.two_factor.required && !me.two_factor.enabled) return <Security onChanged={refresh} />;
  if (path.startsWith('/app/security')) return <Security onChanged={refresh} />;
  const m = path.match(/^\/app\/([a-z]+)(?:\/([0-9a-f-]{36}))?$/);
  const collection = COLLECTIONS.find((c) => c.path === m?.[1]);
  if (collection && m?.[2]) return <Editor key={m[2]} collection={collection} id={m[2]} canEdit={canEdit(me)} />;
  if (collection) return <Objects key={collection.path} collection={collection} canEdit={canEdit(me)} />;
  if (path.startsWith('/app/audit')) return <Audit />;
  if (path.startsWith('/app/translations')) return <Translations canEdit={canEdit(me)} />;
  if (path.startsWith('/app/approvals')) return <Approvals canDecide={me.role === 'admin' || me.role === 'owner'} me={me.account.email} />;
  if (path.startsWith('/app/analytics')) return <Analytics />;
  if (path.startsWith('/app/surveys')) return <SurveysPage />;
  if (path.startsWith('/app/experiments')) return <ExperimentsPage />;
  if (path.startsWith('/app/users')) return <Users key={location.search} canAdmin={me.role === 'admin' || me.role === 'owner'} />;
  if (path.startsWith('/app/accounts')) return <Accounts canAdmin={me.role === 'admin' || me.role === 'owner'} />;
  if (path === '/app/' || path === '/app/overview') return <OverviewPage />;
  const admin = me.role === 'admin' || me.role === 'owner';
  if (path.startsWith('/app/webhooks') && admin) return <Webhooks />;
  if (path.startsWith('/app/members')) return <Members isOwner={me.role === 'owner'} me={me.account.email} />;
  if (path.startsWith('/app/settings')) return <SettingsPage canAdmin={me.role === 'admin' || me.role === 'owner'} isOwner={me.role === 'owner'} />;
  return <Objects collection={COLLECTIONS[0]!} canEdit={canEdit(me)} />;
}

function Shell({ me, onLogout, refresh }: { me: Me; onLogout: () => void; refresh: () => void }) {
  const path = usePath();
  return (
    <div class="shell">
      <header class="top">
        <span class="brand">Spotlight</span>
        <span class="tenant">{me.tenant.name}</span>
        <span class="who">{me.account.email} · {me.role}</span>
        <Link href="/app/security" current={path.startsWith('/app/security')}>Security</Link>
        <button type="button" onClick={onLogout}>Log out</button>
      </header>
      <nav class="side" aria-label="Sections">
        <Link href="/app/overview" current={path === '/app/' || path === '/app/overview'}>Overview</Link>
        {COLLECTIONS.map((c) => <Link href={`/app/${c.path}`} current={path.startsWith(`/app/${c.path}`)}>{c.title}</Link>)}
        <Link href="/app/surveys" current={path.startsWith('/app/surveys')}>Surveys</Link>
        <Link href="/app/experiments" current={path.startsWith('/app/experiments')}>Experiments</Link>
        <Link href="/app/analytics" current={path.startsWith('/app/analytics')}>Analytics</Link>
        <Link href="/app/users" current={path.startsWith('/app/users')}>End users</Link>
        <Link href="/app/accounts" current={path.startsWith('/app/accounts')}>Accounts</Link>
        <Link href="/app/translations" current={path.startsWith('/app/translations')}>Translations</Link>
        <Link href="/app/approvals" current={path.startsWith('/app/approvals')}>Approvals</Link>
        <Link href="/app/audit" current={path.startsWith('/app/audit')}>Audit log</Link>
        {(me.role === 'admin' || me.role === 'owner') && <Link href="/app/settings" current={path.startsWith('/app/settings')}>Settings</Link>}
        {(me.role === 'admin' || me.role === 'owner') && <Link href="/app/webhooks" current={path.startsWith('/app/webhooks')}>Webhooks</Link>}
        {(me.role === 'admin' || me.role === 'owner') && <Link href="/app/members" current={path.startsWith('/app/members')}>Members</Link>}
      </nav>
      <main id="main" tabIndex={-1}>
        <Page path={path} me={me} refresh={refresh} />
      </main>
    </div>
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    whenSignedOut(() => setMe(null));
    currentUser().then(setMe, (e: unknown) => {
      if (!(e instanceof ApiError) || e.status !== 401) console.warn(e);
      setMe(null);
    });
  }, []);
  if (location.pathname === '/app/accept') return <Accept onSignedIn={(m) => { setMe(m); navigate('/app/tours'); }} />;
  if (me === undefined) return <p class="loading">Loading…</p>;
  // A lost session shows the login here; signing in again returns to the same page
  // (and an edit in progress is still there: editors keep it locally).
  if (me === null) return <Login onSignedIn={(m) => { setMe(m); if (location.pathname === '/app/' || location.pathname === '/app') navigate('/app/tours'); }} />;
  return <Shell me={me} refresh={() => { currentUser().then(setMe, () => setMe(null)); }} onLogout={() => { void logout().finally(() => { navigate('/app/'); setMe(null); }); }} />;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
