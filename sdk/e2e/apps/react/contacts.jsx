import { useEffect, useState } from 'react';

// Contacts arrive after a request; the list scrolls inside its own panel.
export default function Contacts() {
  const [rows, setRows] = useState(null);
  useEffect(() => {
    const t = setTimeout(() => setRows(Array.from({ length: 40 }, (_, i) => `Contact ${i + 1}`)), 300);
    return () => clearTimeout(t);
  }, []);
  if (!rows) return <p className="loading">Loading contacts…</p>;
  return (
    <section>
      <h1>Contacts</h1>
      <button id="add-contact" className="primary">Add contact</button>
      <div className="panel" data-testid="contact-panel">
        <ul>
          {rows.map((r, i) => (
            <li key={r}>{r} {i === rows.length - 1 && <button data-testid="archive-last">Archive</button>}</li>
          ))}
        </ul>
      </div>
    </section>
  );
}
