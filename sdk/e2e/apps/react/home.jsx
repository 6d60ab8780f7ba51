import { useEffect, useState } from 'react';

// The feed polls; each refresh builds new cards (new keys), as feeds do.
export default function Home({ onTrack }) {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setVersion((v) => v + 1), 700);
    return () => clearInterval(t);
  }, []);
  const items = ['Deal won: Globex', 'Call with Initech', 'Email from Umbrella'];
  return (
    <section>
      <h1>Welcome back</h1>
      <div className="feed">
        {items.map((text, i) => (
          <article className="card" key={`${version}-${i}`}>
            <p>{text}</p>
            {i === 0 && <button data-testid="new-contact" className="primary" onClick={() => onTrack('contact_started')}>New contact</button>}
          </article>
        ))}
      </div>
    </section>
  );
}
