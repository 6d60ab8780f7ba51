// The in-app editor for admins (a lazy chunk): an element picker that records
// a fingerprint for a step's target, and a switch to preview drafts. The picked
// target is emitted (`on('element_picked')`) and posted to the dashboard window
// that opened this page, if any, on the Spotlight origin only.

import type { Target } from '../types';
import { fingerprint } from './fingerprint';
import { h } from '../dom/ui';

export interface EditorHost {
  ui(): HTMLElement;
  readonly hostEl: HTMLElement;
  emit(event: string, detail: Record<string, unknown>): void;
  guard<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void;
  previewing(): boolean;
  setPreview(on: boolean): void;
  apiOrigin(): string;
}

export function mount(host: EditorHost): () => void {
  const root = host.ui();
  const bar = h('div', { class: 'card', role: 'toolbar', 'aria-label': 'Spotlight editor' });
  Object.assign(bar.style, { top: '12px', right: '12px', display: 'flex', gap: '8px', alignItems: 'center', padding: '8px' });
  const pickBtn = h('button', { class: 'p' }, 'Pick element');
  const previewBtn = h('button', { 'aria-pressed': String(host.previewing()) }, host.previewing() ? 'Preview drafts: on' : 'Preview drafts: off');
  bar.append(h('strong', {}, 'Spotlight'), pickBtn, previewBtn);
  root.append(bar);
  let stopPicking: (() => void) | null = null;
  let panel: HTMLElement | null = null;

  previewBtn.addEventListener('click', host.guard(() => host.setPreview(!host.previewing())));
  pickBtn.addEventListener('click', host.guard(() => {
    if (stopPicking) { stopPicking(); return; }
    panel?.remove();
    stopPicking = pick(host, root, dodge, (target) => {
      stopPicking = null;
      pickBtn.textContent = 'Pick element';
      panel = result(target);
      root.append(panel);
      host.emit('element_picked', { target });
      try { window.opener?.postMessage({ type: 'spotlight:element_picked', target }, host.apiOrigin()); } catch { /* closed */ }
    });
    pickBtn.textContent = 'Cancel picking';
  }));

  // Opened by the dashboard's "Pick on page" (`?spotlight_pick=1`): start picking at once.
  if (/[?&]spotlight_pick=1/.test(location.search)) pickBtn.click();

  // The bar gets out of the way of what is being picked: it moves to the other
  // edge when the pointer comes near it.
  function dodge(x: number, y: number): void {
    const r = bar.getBoundingClientRect();
    if (x < r.left - 16 || x > r.right + 16 || y < r.top - 16 || y > r.bottom + 16) return;
    const atTop = bar.style.top !== '';
    Object.assign(bar.style, atTop ? { top: '', bottom: '12px' } : { bottom: '', top: '12px' });
  }

  function result(target: Target): HTMLElement {
    const json = JSON.stringify(target, null, 2);
    const list = h('ul');
    for (const s of target.selectors) list.append(h('li', {}, h('code', {}, s)));
    const copy = h('button', { class: 'p' }, 'Copy JSON');
    copy.addEventListener('click', host.guard(() => { void navigator.clipboard?.writeText(json).catch(() => {}); copy.textContent = 'Copied'; }));
    const close = h('button', {}, 'Close');
    const p = h('div', { class: 'card', role: 'dialog', 'aria-label': 'Picked element' },
      h('div', { class: 't' }, 'Picked element'), list, target.text ? h('p', {}, `Text: ${target.text}`) : '', h('div', { class: 'f' }, close, copy));
    close.addEventListener('click', () => p.remove());
    Object.assign(p.style, { top: '64px', right: '12px' });
    return p;
  }

  return () => { stopPicking?.(); bar.remove(); panel?.remove(); };
}

/** Hover outlines an element; a click records it; Esc cancels. The page never sees the click. */
function pick(host: EditorHost, root: HTMLElement, dodge: (x: number, y: number) => void, done: (t: Target) => void): () => void {
  const outline = h('div', { 'aria-hidden': 'true' });
  Object.assign(outline.style, { position: 'fixed', zIndex: '5', pointerEvents: 'none', border: '2px dashed var(--p)', borderRadius: '4px', display: 'none' });
  root.append(outline);
  let current: Element | null = null;
  const under = (e: Event): Element | null => {
    const t = e.composedPath()[0];
    return t instanceof Element && !host.hostEl.contains(t) && t !== host.hostEl ? t : null;
  };
  const move = (e: MouseEvent) => {
    dodge(e.clientX, e.clientY);
    const el = under(e);
    if (!el || el === current) return;
    current = el;
    const r = el.getBoundingClientRect();
    Object.assign(outline.style, { display: 'block', left: `${r.x - 2}px`, top: `${r.y - 2}px`, width: `${r.width + 4}px`, height: `${r.height + 4}px` });
  };
  const swallow = (e: Event) => {
    const el = under(e);
    if (!el) return;
    e.preventDefault();
    e.stopPropagation();
    e.stopImmediatePropagation();
    if (e.type === 'click') { stop(); done(fingerprint(el)); }
  };
  const key = (e: KeyboardEvent) => { if (e.key === 'Escape') { e.stopPropagation(); stop(); } };
  const types = ['click', 'mousedown', 'mouseup', 'pointerdown', 'pointerup'];
  document.addEventListener('mousemove', move, true);
  for (const t of types) document.addEventListener(t, swallow, true);
  document.addEventListener('keydown', key, true);
  function stop() {
    document.removeEventListener('mousemove', move, true);
    for (const t of types) document.removeEventListener(t, swallow, true);
    document.removeEventListener('keydown', key, true);
    outline.remove();
  }
  return stop;
}
