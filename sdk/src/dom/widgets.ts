// Announcements (banner, modal, slideout), onboarding checklists and launchers
// with their resource list. Each returns a function that removes it.

import type { Checklist, Config, Content, Delivered, Launcher, Progress, Tour } from '../types';
import type { Survey } from '../types';
import { closeButton, h, ours, raise, richText, trapFocus } from './ui';
import { resolve, rectOf } from './target';
import { WIDGET_CSS } from './styles';
import { surveyControl, type Answer } from './survey';
import type { Host } from './host';

const styled = new WeakSet<Node>();

/** The SDK's root, with this chunk's stylesheet added to it once. */
function ui(host: Host): HTMLElement {
  const root = host.ui();
  const shadow = root.getRootNode() as ShadowRoot;
  if (!styled.has(shadow)) {
    styled.add(shadow);
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(WIDGET_CSS);
      shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
    } catch {
      shadow.append(h('style', {}, WIDGET_CSS));
    }
  }
  return root;
}

/** A survey step's answer control (tours load this chunk for survey steps only). */
export function survey(host: Host, s: Survey, answer: (a: Answer) => void): HTMLElement {
  ui(host);
  return surveyControl(s, answer);
}

const CORNER: Record<string, [string, string]> = {
  'top-left': ['top', 'left'], 'top-right': ['top', 'right'],
  'bottom-left': ['bottom', 'left'], 'bottom-right': ['bottom', 'right'],
  top: ['top', 'right'], bottom: ['bottom', 'right'], center: ['bottom', 'right'],
};
type Side = 'top' | 'right' | 'bottom' | 'left';
type Edges = Record<Side, number>;
const SIDES: Side[] = ['top', 'right', 'bottom', 'left'];

/** The host's own fixed element `e` belongs to (not the SDK's, not the page itself), if any. */
function fixedOf(e: Element | null): Element | null {
  for (; e && e !== document.body && e !== document.documentElement; e = e.parentElement ?? ((e.getRootNode() as ShadowRoot).host || null)) {
    if (e.hasAttribute('data-spotlight')) return null;
    if (getComputedStyle(e).position === 'fixed') return e;
  }
  return null;
}

/** The host's fixed elements under any of these points. */
function fixedAt(points: [number, number][]): Element[] {
  const out = new Set<Element>();
  for (const [x, y] of points) for (const e of document.elementsFromPoint(x, y)) { const f = fixedOf(e); if (f) out.add(f); }
  return [...out];
}

/**
 * What the host keeps along each edge, which the SDK's widgets never cover:
 * what it declares (the `insets` init option, `--spotlight-inset-*` on `:root`)
 * and the fixed bars found at the top and bottom edges (a sticky header that
 * scrolls with the page is pushed down with it instead).
 */
export function insets(host: Host): Edges {
  const css = getComputedStyle(document.documentElement);
  const out = {} as Edges;
  for (const s of SIDES) out[s] = Math.max(0, host.options?.insets?.[s] ?? 0, parseFloat(css.getPropertyValue(`--spotlight-inset-${s}`)) || 0);
  const xs = [0.02, 0.5, 0.98].map((f) => f * innerWidth);
  for (const e of fixedAt(xs.map((x) => [x, 1]))) {
    const r = e.getBoundingClientRect();
    if (r.height < innerHeight / 3) out.top = Math.max(out.top, r.bottom);
  }
  for (const e of fixedAt(xs.map((x) => [x, innerHeight - 2]))) {
    const r = e.getBoundingClientRect();
    if (r.height < innerHeight / 3) out.bottom = Math.max(out.bottom, innerHeight - r.top);
  }
  return out;
}

/**
 * A corner widget: in its corner inside the host's insets (and clear of a
 * banner on that edge), then moved along its edge past any fixed host control
 * it would still cover (a help button, a chat launcher). Laid out again on
 * resize and every second, for host controls that come later.
 */
/**
 * Moves `el` along its edge (`v`, starting `off` px in) until no fixed host
 * control lies under it, probing on a 20 px grid (a round button misses a
 * box's corners); `put(off)` places it. Returns the offset it settled on.
 */
function clear(el: HTMLElement, v: string, off: number, put: (off: number) => void): number {
  for (let tries = 0; tries < 3; tries++) {
    put(off);
    const r = el.getBoundingClientRect();
    const grid: [number, number][] = [];
    for (let x = r.left + 4; x < r.right; x += 20) for (let y = r.top + 4; y < r.bottom; y += 20) grid.push([x, y]);
    const under = fixedAt(grid);
    if (!under.length) break;
    for (const u of under) {
      const b = u.getBoundingClientRect();
      off = Math.max(off, v === 'bottom' ? innerHeight - b.top + 8 : b.bottom + 8);
    }
  }
  return off;
}

function corner(host: Host, el: HTMLElement, position: string | undefined, fallback: string): () => void {
  const [v, hz] = CORNER[position ?? fallback] ?? CORNER[fallback]!;
  const layout = host.guard(() => {
    if (!el.isConnected) return;
    const e = insets(host);
    el.style.setProperty(hz, `${16 + e[hz as Side]}px`);
    clear(el, v, 16 + e[v as Side], (off) => el.style.setProperty(v, `calc(${off}px + var(${v === 'bottom' ? '--bb' : '--bt'}, 0px))`));
  });
  const t = setInterval(layout, 1000);
  addEventListener('resize', layout);
  queueMicrotask(layout);
  return () => { clearInterval(t); removeEventListener('resize', layout); };
}

function openLink(url: string): void {
  if (/^https?:\/\//i.test(url)) window.open(url, '_blank', 'noopener');
  else if (url.startsWith('/')) location.assign(url);
}

/**
 * A banner pushes the page instead of covering it: the document gets room for
 * it (padding on <html>, given back when it goes), and it sits below the
 * host's fixed bars. A top banner scrolls away with the page (clipped under a
 * fixed header) so a sticky header never meets it; a bottom one stays.
 */
function banner(host: Host, root: HTMLElement, box: HTMLElement, top: boolean): () => void {
  const html = document.documentElement.style;
  const prop = top ? 'padding-top' : 'padding-bottom';
  const before = html.getPropertyValue(prop);
  const base = parseFloat(getComputedStyle(document.documentElement)[top ? 'paddingTop' : 'paddingBottom']) || 0;
  const edge = top ? '--bt' : '--bb';
  let inset = 0;
  const scroll = () => {
    if (!top) return;
    const y = Math.max(0, scrollY);
    box.style.setProperty('top', `${inset - y}px`);
    box.style.setProperty('clip-path', `inset(${y}px 0 0 0)`);
    root.style.setProperty(edge, `${Math.max(0, box.offsetHeight - y)}px`);
  };
  const layout = host.guard(() => {
    inset = insets(host)[top ? 'top' : 'bottom'];
    const height = Math.ceil(box.getBoundingClientRect().height);
    html.setProperty(prop, `${base + height}px`);
    if (top) scroll();
    else {
      // Above the host's fixed controls near the bottom edge too (a help button).
      const off = clear(box, 'bottom', inset, (o) => box.style.setProperty('bottom', `${o}px`));
      root.style.setProperty(edge, `${height + off - inset}px`);
    }
  });
  layout();
  const t = setInterval(layout, 1000);
  addEventListener('resize', layout);
  addEventListener('scroll', scroll, { passive: true });
  return () => {
    clearInterval(t);
    removeEventListener('resize', layout);
    removeEventListener('scroll', scroll);
    root.style.removeProperty(edge);
    if (before) html.setProperty(prop, before); else html.removeProperty(prop);
  };
}

export function showContent(host: Host, item: Delivered<Content>, onGone: () => void): () => void {
  const c = item.document;
  const root = ui(host);
  raise(host.hostEl);
  const base = { content_id: item.id, version: item.version, url: location.href.slice(0, 2000) };
  const kind = c.type;
  const modal = kind === 'modal';
  const titleId = `sl-c-${item.id}`;
  const box = h('div', {
    class: kind === 'banner' ? 'ban' : modal ? 'card modal' : 'card so',
    role: modal ? 'dialog' : 'region',
    'aria-modal': modal ? 'true' : undefined,
    'aria-labelledby': c.title ? titleId : undefined,
    'aria-label': c.title ? undefined : c.name,
    tabindex: -1,
  });
  host.theme(box, c.theme_id);
  let overlay: HTMLElement | null = null;
  const returnFocus = document.activeElement;
  let gone = false;
  const stop: (() => void)[] = [];
  const remove = () => {
    gone = true;
    box.remove();
    overlay?.remove();
    for (const s of stop.splice(0)) s();
    document.removeEventListener('keydown', keys, true);
  };
  const close = (dismissed: boolean) => {
    if (gone) return;
    remove();
    if (dismissed) host.track('content_dismissed', base);
    onGone();
    if (modal && returnFocus instanceof HTMLElement) returnFocus.focus({ preventScroll: true });
  };
  // Keys act only while focus is in what this shows: Esc in the host's own dialog is the host's.
  const keys = (e: KeyboardEvent) => host.guard(() => {
    if (!ours(e, host.hostEl)) return;
    if (e.key === 'Escape' && c.dismissible !== false) close(true);
    else if (modal) trapFocus(box, e);
  })();
  const footer = h('div', { class: 'f' });
  for (const cta of c.buttons ?? []) {
    footer.append(h('button', {
      class: cta.action === 'dismiss' ? undefined : 'p',
      onclick: host.guard(() => {
        if (cta.action === 'dismiss') return close(true);
        host.track('content_clicked', { ...base, cta: cta.label.slice(0, 200) });
        close(false);
        if (cta.action === 'link') openLink(cta.url);
        else host.startTour(cta.tour_id, 'content');
      }),
    }, cta.label));
  }
  if (c.dismissible !== false) box.append(closeButton('Dismiss', () => close(true)));
  if (c.title) box.append(h('div', { class: 't', id: titleId }, c.title));
  box.append(richText(c.body), footer);
  if (modal) {
    overlay = h('div', { class: 'ov' });
    overlay.style.setProperty('background', 'var(--bd)');
    overlay.style.setProperty('pointer-events', 'auto');
    root.append(overlay);
    document.addEventListener('keydown', keys, true);
  } else if (c.dismissible !== false) {
    document.addEventListener('keydown', keys, true);
  }
  root.append(box);
  if (kind === 'banner') stop.push(banner(host, root, box, c.position === 'top'));
  else if (!modal) stop.push(corner(host, box, c.position, 'bottom-right'));
  if (modal) box.focus({ preventScroll: true });
  host.track('content_viewed', base);
  host.emit('content_viewed', { contentId: item.id });
  return remove;
}

export function showChecklist(
  host: Host,
  item: Delivered<Checklist>,
  progress: Progress | undefined,
  done: Set<string>,
  onDismiss: () => void,
): { remove: () => void; refresh: () => void; open: () => void } {
  const c = item.document;
  const root = ui(host);
  for (const i of progress?.items_completed ?? []) done.add(i);
  let expanded = false;
  const box = h('div', { class: 'cl', role: 'region', 'aria-label': c.title, tabindex: -1 });
  host.theme(box, c.theme_id);
  const watchers: (() => void)[] = [];
  const render = () => {
    box.textContent = '';
    const n = c.items.length;
    const k = c.items.filter((i) => done.has(i.id)).length;
    const head = h('button', { class: 'p', 'aria-expanded': String(expanded), onclick: () => { expanded = !expanded; render(); } }, `${c.title} · ${k}/${n}`);
    box.append(head);
    if (c.dismissible !== false) box.append(closeButton('Dismiss checklist', host.guard(() => { remove(); onDismiss(); })));
    if (!expanded) return;
    const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-label': `${k} of ${n} done`, 'aria-valuemin': 0, 'aria-valuemax': n, 'aria-valuenow': k }, h('i'));
    (bar.firstChild as HTMLElement).style.width = `${(100 * k) / Math.max(n, 1)}%`;
    const list = h('ul');
    for (const it of c.items) {
      const isDone = done.has(it.id);
      list.append(h('li', { class: isDone ? 'd' : undefined }, h('button', {
        'aria-label': `${it.title}${isDone ? ' (done)' : ''}`,
        onclick: host.guard(() => {
          if (it.action?.type === 'tour') host.startTour(it.action.tour_id, 'checklist');
          else if (it.action?.type === 'link') openLink(it.action.url);
        }),
      }, isDone ? '✓' : '○', it.title)));
    }
    box.append(c.description ? h('p', {}, c.description) : '', bar, list);
  };
  // Items ticked by a click on an element.
  for (const it of c.items) {
    if (it.completed_by.type !== 'click' || done.has(it.id)) continue;
    const target = it.completed_by.target;
    const onClick = (e: Event) => host.guard(() => {
      const el = resolve(target);
      if (el && e.composedPath().includes(el) && !done.has(it.id)) {
        done.add(it.id);
        host.track('checklist_item_completed', { checklist_id: item.id, item_id: it.id, url: location.href.slice(0, 2000) });
        render();
      }
    })();
    document.addEventListener('click', onClick, true);
    watchers.push(() => document.removeEventListener('click', onClick, true));
  }
  const remove = () => { box.remove(); for (const w of watchers.splice(0)) w(); };
  render();
  root.append(box);
  watchers.push(corner(host, box, undefined, 'bottom-right'));
  return { remove, refresh: render, open: () => { expanded = true; render(); box.focus({ preventScroll: true }); } };
}

export function showLauncher(host: Host, item: Delivered<Launcher>, titles: (kind: string, id: string) => string | undefined): () => void {
  const l = item.document;
  const root = ui(host);
  let menu: HTMLElement | null = null;
  const button = h('button', {
    class: l.type === 'beacon' ? 'hs' : 'lb p',
    'aria-haspopup': 'true',
    'aria-expanded': 'false',
    'aria-label': l.label || l.name,
  }, l.type === 'beacon' ? '' : l.label || '?');
  host.theme(button, l.theme_id);
  const closeMenu = () => { menu?.remove(); menu = null; button.setAttribute('aria-expanded', 'false'); };
  const toggle = host.guard(() => {
    if (menu) return closeMenu();
    host.track('launcher_opened', { launcher_id: item.id, url: location.href.slice(0, 2000) });
    const list = h('ul', { role: 'none' });
    for (const it of l.items) {
      const label = it.type === 'link' ? it.label : it.label ?? (it.type === 'tour' ? titles('tour', it.tour_id) : titles('checklist', it.checklist_id));
      if (!label) continue; // not delivered to this user
      list.append(h('li', { role: 'none' }, h('button', {
        role: 'menuitem',
        onclick: host.guard(() => {
          closeMenu();
          if (it.type === 'tour') host.startTour(it.tour_id, 'launcher');
          else if (it.type === 'checklist') host.openChecklist(it.checklist_id);
          else openLink(it.url);
        }),
      }, label)));
    }
    menu = h('div', { class: 'menu', role: 'menu', 'aria-label': l.name }, h('div', { class: 't' }, l.label || l.name), list);
    host.theme(menu, l.theme_id);
    const r = button.getBoundingClientRect();
    const below = r.top < innerHeight / 2;
    menu.style.setProperty(below ? 'top' : 'bottom', `${below ? r.bottom + 8 : innerHeight - r.top + 8}px`);
    menu.style.setProperty('left', `${Math.max(8, Math.min(r.left, innerWidth - 240))}px`);
    root.append(menu);
    button.setAttribute('aria-expanded', 'true');
    (menu.querySelector('button') as HTMLElement | null)?.focus();
  });
  button.addEventListener('click', toggle);
  let frame = 0;
  if (l.type === 'beacon' && l.target) {
    const target = l.target;
    const follow = () => {
      const el = resolve(target);
      button.style.display = el ? '' : 'none';
      if (el) {
        const r = rectOf(el);
        Object.assign(button.style, { left: `${r.right - 9}px`, top: `${r.top - 9}px` });
      }
      frame = window.setTimeout(follow, 250);
    };
    follow();
  }
  root.append(button);
  // Checklists live bottom right; a launcher without a corner takes the left.
  const unplace = l.type === 'beacon' && l.target ? () => {} : corner(host, button, l.position?.includes('-') ? l.position : 'bottom-left', 'bottom-left');
  return () => { clearTimeout(frame); unplace(); closeMenu(); button.remove(); };
}

type Shown = { remove: () => void; refresh?: () => void; open?: () => void };

/**
 * What the SDK shows besides tours, for one instance: announcements, checklists
 * and launchers delivered by the config, kept in step with each new config,
 * with event-triggered announcements and checklist ticks.
 */
export class Shelf {
  #shown = new Map<string, Shown>();
  #done = new Map<string, Set<string>>();

  constructor(private host: Host) {}

  apply(cfg: Config): void {
    const ids = new Set([...cfg.content, ...cfg.checklists, ...cfg.launchers].map((i) => i.id));
    for (const [id, s] of this.#shown) if (!ids.has(id)) { s.remove(); this.#shown.delete(id); }
    for (const l of cfg.launchers) this.#launcher(cfg, l);
    for (const c of cfg.checklists) this.#checklist(cfg, c);
    // `resume_only`: still on screen from an earlier page of this session, never shown afresh.
    for (const c of cfg.content) if ((c.document.trigger?.type ?? 'page') === 'page' && !c.resume_only) this.#content(cfg, c, false);
  }

  tracked(name: string): void {
    const cfg = this.host.cfg;
    if (!cfg) return;
    for (const c of cfg.content) {
      if (c.document.trigger?.type === 'event' && c.document.trigger.event === name) this.#content(cfg, c, true);
    }
    for (const c of cfg.checklists) {
      for (const it of c.document.items) if (it.completed_by.type === 'event' && it.completed_by.event === name) this.#tick(c.id, it.id);
    }
  }

  tourDone(tourId: string): void {
    for (const c of this.host.cfg?.checklists ?? []) {
      for (const it of c.document.items) if (it.completed_by.type === 'tour' && it.completed_by.tour_id === tourId) this.#tick(c.id, it.id);
    }
  }

  open(id: string): void { this.#shown.get(id)?.open?.(); }

  clear(): void {
    for (const s of this.#shown.values()) s.remove();
    this.#shown.clear();
  }

  #content(cfg: Config, c: Delivered<Content>, force: boolean): void {
    const host = this.host;
    if (this.#shown.has(c.id) || (!force && host.endedIds.has(c.id))) return;
    // One modal at a time, and none over a tour.
    if (c.document.type === 'modal' && (host.touring || [...this.#shown.keys()].some((id) => cfg.content.find((x) => x.id === id)?.document.type === 'modal'))) return;
    host.exposeArm(c);
    this.#shown.set(c.id, { remove: showContent(host, c, () => { this.#shown.delete(c.id); host.end(c.id); }) });
  }

  #launcher(cfg: Config, l: Delivered<Launcher>): void {
    if (this.#shown.has(l.id)) return;
    const titles = (kind: string, id: string) => {
      const list: Delivered<Tour | Checklist>[] = kind === 'tour' ? cfg.tours : cfg.checklists;
      const found = list.find((x) => x.id === id);
      return found ? ('title' in found.document ? found.document.title : found.document.name) : undefined;
    };
    this.#shown.set(l.id, { remove: showLauncher(this.host, l, titles) });
  }

  #checklist(cfg: Config, c: Delivered<Checklist>): void {
    const host = this.host;
    if (this.#shown.has(c.id) || host.localKV.get(`spotlight:cl-hidden:${c.id}`)) return;
    const done = this.#done.get(c.id) ?? new Set<string>();
    this.#done.set(c.id, done);
    this.#shown.set(c.id, showChecklist(host, c, cfg.progress?.[c.id], done, () => {
      this.#shown.delete(c.id);
      host.localKV.set(`spotlight:cl-hidden:${c.id}`, '1');
    }));
  }

  #tick(checklistId: string, itemId: string): void {
    const done = this.#done.get(checklistId) ?? new Set<string>();
    this.#done.set(checklistId, done);
    if (done.has(itemId)) return;
    // The server ticks items completed by events and tours itself; this only redraws.
    done.add(itemId);
    this.#shown.get(checklistId)?.refresh?.();
  }
}
