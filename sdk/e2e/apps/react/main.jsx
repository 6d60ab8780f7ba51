// "Pipeline", a small CRM as a React team writes one: react-router with lazy
// routes, a sticky top bar with a huge z-index, a native <dialog> for invites,
// a fixed help button, a global CSS reset, an activity feed that re-mounts its
// cards on every refresh, and data that arrives late. The signed-in user is
// known only after a request, and is handed to Spotlight through its React
// binding (the only Spotlight code in the app).
import { StrictMode, Suspense, lazy, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, NavLink, Route, Routes, useNavigate } from 'react-router';
import { SpotlightProvider, useSpotlight } from '@spotlight/sdk/react';

const Home = lazy(() => import('./home.jsx'));
const Contacts = lazy(() => import('./contacts.jsx'));

function useCurrentUser() {
  const [user, setUser] = useState(null);
  useEffect(() => {
    const t = setTimeout(() => setUser({ id: 'react-user-1', name: 'Ada', plan: 'team' }), 80);
    return () => clearTimeout(t);
  }, []);
  return user;
}

function InviteDialog({ open, onClose }) {
  const ref = useRef(null);
  const sl = useSpotlight();
  useEffect(() => {
    const d = ref.current;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" onClose={onClose} aria-labelledby="invite-title">
      <form method="dialog" onSubmit={() => sl.track('invite_sent')}>
        <h2 id="invite-title">Invite a teammate</h2>
        <label>Email <input name="email" type="email" placeholder="name@company.com" /></label>
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button data-testid="send-invite" className="primary">Send invite</button>
        </div>
      </form>
    </dialog>
  );
}

function Shell() {
  const user = useCurrentUser();
  const sl = useSpotlight(user && { id: user.id, attributes: { plan: user.plan } });
  const [inviting, setInviting] = useState(false);
  return (
    <>
      <header className="topbar">
        <strong className="logo">Pipeline</strong>
        <nav>
          <NavLink to="/" end>Home</NavLink>
          <NavLink to="/contacts">Contacts</NavLink>
          <NavLink to="/settings">Settings</NavLink>
        </nav>
        <button id="invite" onClick={() => setInviting(true)}>Invite</button>
        <span className="me">{user ? user.name : '…'}</span>
      </header>
      <main>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Routes>
            <Route path="/" element={<Home onTrack={(e) => sl.track(e)} />} />
            <Route path="/contacts" element={<Contacts />} />
            <Route path="/settings" element={<Settings />} />
          </Routes>
        </Suspense>
      </main>
      <InviteDialog open={inviting} onClose={() => setInviting(false)} />
      <button className="help" aria-label="Help">?</button>
    </>
  );
}

function Settings() {
  return (
    <section>
      <h1>Settings</h1>
      <label>Company <input defaultValue="Acme" /></label>
    </section>
  );
}

function App() {
  const navigate = useNavigate();
  const cfg = window.APP_CONFIG;
  return (
    <SpotlightProvider apiUrl={cfg.api} options={{ key: cfg.key, debug: true, waitForIdentify: true, navigate: (url) => navigate(url) }}>
      <Shell />
    </SpotlightProvider>
  );
}

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <BrowserRouter>
      <App />
    </BrowserRouter>
  </StrictMode>,
);
