// Announcements (banner, modal, slideout), onboarding checklists and launchers
// with their resource list. Each returns a function that removes it.

import type { Checklist, Content, Delivered, Launcher, Progress } from '../types';
import { closeButton, h, raise, richText, trapFocus } from './ui';
import { resolve, rectOf } from './target';
import type { Host } from './host';

const CORNER: Record<string, [string, string]> = {
  'top-left': ['top', 'left'], 'top-right': ['top', 'right'],
  'bottom-left': ['bottom', 'left'], 'bottom-right': ['bottom', 'right'],
  top: ['top', 'right'], bottom: ['bottom', 'right'], center: ['bottom', 'right'],
};

function place(el: HTMLElement, position: string | undefined, fallback: string): void {
  const [v, hz] = CORNER[position ?? fallback] ?? CORNER[fallback]!;
  // Corner widgets stay clear of a banner along the same edge.
  el.style.setProperty(v, v === 'bottom' ? 'calc(16px + var(--bb, 0px))' : 'calc(16px + var(--bt, 0px))');
  el.style.setProperty(hz, '16px');
}

function openLink(url: string): void {
  if (/^https?:\/\//i.test(url)) window.open(url, '_blank', 'noopener');
  else if (url.startsWith('/')) location.assign(url);
}

export function showContent(host: Host, item: Delivered<Content>, onGone: () => void): () => void {
  const c = item.document;
  const root = host.ui();
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
  if (kind === 'banner') box.style.setProperty(c.position === 'top' ? 'top' : 'bottom', '0');
  else if (!modal) place(box, c.position, 'bottom-right');
  let overlay: HTMLElement | null = null;
  const returnFocus = document.activeElement;
  let gone = false;
  const edge = c.position === 'top' ? '--bt' : '--bb';
  const remove = () => {
    gone = true;
    if (kind === 'banner') root.style.removeProperty(edge);
    box.remove();
    overlay?.remove();
    document.removeEventListener('keydown', keys, true);
  };
  const close = (dismissed: boolean) => {
    if (gone) return;
    remove();
    if (dismissed) host.track('content_dismissed', base);
    onGone();
    if (modal && returnFocus instanceof HTMLElement) returnFocus.focus({ preventScroll: true });
  };
  const keys = (e: KeyboardEvent) => host.guard(() => {
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
  if (kind === 'banner') root.style.setProperty(edge, `${box.offsetHeight}px`);
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
  const root = host.ui();
  for (const i of progress?.items_completed ?? []) done.add(i);
  let expanded = false;
  const box = h('div', { class: 'cl', role: 'region', 'aria-label': c.title, tabindex: -1 });
  host.theme(box, c.theme_id);
  place(box, undefined, 'bottom-right');
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
  return { remove, refresh: render, open: () => { expanded = true; render(); box.focus({ preventScroll: true }); } };
}

export function showLauncher(host: Host, item: Delivered<Launcher>, titles: (kind: string, id: string) => string | undefined): () => void {
  const l = item.document;
  const root = host.ui();
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
  } else {
    // Checklists live bottom right; a launcher without a corner takes the left.
    place(button, l.position?.includes('-') ? l.position : 'bottom-left', 'bottom-left');
  }
  root.append(button);
  return () => { clearTimeout(frame); closeMenu(); button.remove(); };
}
