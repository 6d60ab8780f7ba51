// Client-side navigation under /app/: links push history entries; the current
// path is a hook so pages re-render on back and forward.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();

export function navigate(path: string): void {
  if (location.pathname + location.search !== path) history.pushState({}, '', path);
  listeners.forEach((l) => l());
}

window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const l = () => setPath(location.pathname);
    listeners.add(l);
    return () => { listeners.delete(l); };
  }, []);
  return path;
}

/** The path and query: for pages that show one item by `?id=`. */
export function useHref(): string {
  const [href, setHref] = useState(location.pathname + location.search);
  useEffect(() => {
    const l = () => setHref(location.pathname + location.search);
    listeners.add(l);
    return () => { listeners.delete(l); };
  }, []);
  return href;
}

export function Link({ href, current, children }: { href: string; current?: boolean; children: ComponentChildren }) {
  return (
    <a href={href} aria-current={current ? 'page' : undefined}
      onClick={(e) => { if (e.metaKey || e.ctrlKey) return; e.preventDefault(); navigate(href); }}>
      {children}
    </a>
  );
}
