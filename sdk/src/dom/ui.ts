// Small DOM helpers shared by the renderers, and the shadow root everything the
// SDK shows lives in.

import type { Theme, ThemeTokens } from '../types';
import { CSS } from './styles';
import { sanitize } from '../core/sanitize';

type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

/** `h('button', {class: 'p', onclick}, 'Next')` — attributes, listeners, children. */
export function h(tag: string, attrs: Attrs = {}, ...kids: (Node | string | null | undefined | false)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids) if (k) el.append(k);
  return el;
}

export function richText(html: string | undefined, id?: string): HTMLElement {
  const b = h('div', { class: 'b', id });
  b.append(sanitize(html ?? ''));
  return b;
}

export function closeButton(label: string, onclick: () => void): HTMLElement {
  return h('button', { class: 'x', 'aria-label': label, onclick }, '×');
}

const COLOUR = /^(#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})|(rgba?|hsla?)\([\d\s,.%/]+\))$/i;
const SAFE_TEXT = /^[\w\s,.'"#%()/-]{1,200}$/;

/** Theme tokens → custom properties; anything invalid is left at its default. */
export function applyTheme(el: HTMLElement, theme: Theme | undefined, warn: (m: string) => void): void {
  if (!theme) return;
  const dark = typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
  const t: ThemeTokens = { ...theme.tokens, ...(dark ? theme.dark : undefined) };
  const colours: [keyof ThemeTokens, string][] = [
    ['primary', '--p'], ['background', '--bg'], ['text', '--tx'],
    ['muted', '--mu'], ['backdrop', '--bd'],
  ];
  for (const [k, v] of colours) {
    const c = t[k];
    if (c === undefined) continue;
    if (typeof c === 'string' && COLOUR.test(c)) el.style.setProperty(v, c);
    else warn(`theme ${String(k)}: ${String(c)} is not a colour; using the default`);
  }
  const px = (k: keyof ThemeTokens, v: string, max: number) => {
    const n = t[k];
    if (typeof n === 'number' && n >= 0 && n <= max) el.style.setProperty(v, `${n}px`);
    else if (n !== undefined) warn(`theme ${String(k)}: out of range`);
  };
  px('font_size_px', '--fs', 40);
  px('radius_px', '--rd', 40);
  px('spacing_px', '--sp', 64);
  for (const [k, v] of [['font_family', '--ff'], ['shadow', '--sh']] as const) {
    const s = t[k];
    if (typeof s === 'string' && SAFE_TEXT.test(s) && !s.includes('url(')) el.style.setProperty(v, s);
    else if (s !== undefined) warn(`theme ${k}: not allowed`);
  }
}

// Everything a hostile page rule could use to move, clip or hide the host.
const HOST_STYLE: [string, string][] = [
  ['display', 'block'], ['position', 'fixed'], ['top', '0'], ['left', '0'], ['width', '0'], ['height', '0'],
  ['margin', '0'], ['padding', '0'], ['border', '0'], ['overflow', 'visible'], ['visibility', 'visible'],
  ['opacity', '1'], ['transform', 'none'], ['filter', 'none'], ['contain', 'none'], ['clip-path', 'none'],
  ['z-index', '2147483000'],
];

/** The shadow host: one element, styled inline `!important` so page rules cannot move or hide it. */
export function createRoot(): { host: HTMLElement; root: HTMLElement } {
  const host = document.createElement('spotlight-root');
  host.setAttribute('data-spotlight', '');
  for (const [k, v] of HOST_STYLE) host.style.setProperty(k, v, 'important');
  const shadow = host.attachShadow({ mode: 'open' });
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch {
    shadow.append(h('style', {}, CSS)); // browsers without constructable sheets
  }
  const root = h('div', { class: 'r' });
  shadow.append(root);
  return { host, root };
}

/** Native dialogs and popovers sit in the top layer; join it last so steps stay above them. */
export function raise(host: HTMLElement): void {
  const p = host as HTMLElement & { showPopover?: () => void; hidePopover?: () => void };
  if (!p.showPopover) return;
  try {
    host.setAttribute('popover', 'manual');
    if (host.matches(':popover-open')) p.hidePopover?.();
    p.showPopover();
  } catch { /* not connected yet */ }
}

/**
 * What the host makes inert or unpainted around the SDK: an open modal
 * `<dialog>` (everything outside it is inert, the SDK included) or a
 * fullscreen element (nothing outside it is painted). The root lives inside
 * the top-most one, so what it shows stays usable, and goes back to `<html>`
 * when it closes.
 */
export function adopt(host: HTMLElement): void {
  if (!host.isConnected) return;
  let want: Element = document.fullscreenElement ?? document.documentElement;
  document.querySelectorAll('dialog[open]').forEach((d) => { if (d.matches(':modal')) want = d; });
  if (host.parentNode !== want) {
    // Moving the root drops its focus; give it back where it was.
    const f = host.shadowRoot?.activeElement as HTMLElement | null;
    want.append(host);
    f?.focus({ preventScroll: true });
  }
  raise(host);
}

/** Whether a keyboard event belongs to the SDK: focus is inside what it shows. */
export function ours(e: Event, host: HTMLElement): boolean {
  return e.composedPath().includes(host);
}

export function focusables(root: ParentNode): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>('button,[href],input,textarea,select,[tabindex]:not([tabindex="-1"])'))
    .filter((e) => !e.hasAttribute('disabled'));
}

/** Tab and Shift+Tab stay inside `box`. */
export function trapFocus(box: HTMLElement, e: KeyboardEvent): void {
  if (e.key !== 'Tab') return;
  const f = focusables(box);
  if (!f.length) { e.preventDefault(); return; }
  const active = (box.getRootNode() as ShadowRoot).activeElement;
  const first = f[0]!;
  const last = f[f.length - 1]!;
  if (e.shiftKey && (active === first || active === box)) { e.preventDefault(); last.focus(); }
  else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
}

export function reducedMotion(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}

export function samePath(url: string): boolean {
  try {
    const u = new URL(url, location.href);
    return u.pathname.replace(/\/$/, '') === location.pathname.replace(/\/$/, '');
  } catch {
    return false;
  }
}
