// One SDK instance: who the user is, the config for the current page (fetched
// with its ETag, kept in localStorage for when the API is unreachable), the event
// queue, and what is on screen. Everything the host page calls goes through
// `guard`, so an SDK fault never becomes the page's exception.

import type { Checklist, Config, Content, Delivered, InitOptions, Launcher, Tour } from './types';
import { EventQueue } from './core/queue';
import { uuidv4 } from './core/uuid';
import { resolve } from './dom/target';
import { applyTheme, createRoot, samePath } from './dom/ui';
import { RESUME_KEY, TourRun } from './dom/tour';
import { editor, widgets } from './chunks/load';
import type * as Widgets from './dom/widgets';
import type { Host, KV } from './dom/host';

export interface SpotlightApi {
  init(options: InitOptions): void;
  identify(userId: string, attributes?: Record<string, unknown>, userToken?: string): void;
  track(name: string, properties?: Record<string, unknown>): void;
  start(tourId: string): boolean;
  stop(): void;
  reset(): void;
  on(event: string, handler: (detail: Record<string, unknown>) => void): () => void;
}

function storage(kind: 'localStorage' | 'sessionStorage'): KV {
  const s = (): Storage | null => { try { return window[kind]; } catch { return null; } };
  return {
    get: (k) => { try { return s()?.getItem(k) ?? null; } catch { return null; } },
    set: (k, v) => { try { s()?.setItem(k, v); } catch { /* full or blocked */ } },
    remove: (k) => { try { s()?.removeItem(k); } catch { /* blocked */ } },
  };
}

const MAX_CACHED = 10;
interface Cached { k: string; etag: string; config: Config }

export class Spotlight implements Host, SpotlightApi {
  #opts: InitOptions | null = null;
  #api = location.origin;
  #user = '';
  #queue: EventQueue | null = null;
  #local = storage('localStorage');
  readonly session = storage('sessionStorage');
  #sessionId = '';
  #config: Config | null = null;
  #handlers = new Map<string, Set<(d: Record<string, unknown>) => void>>();
  #shadow: { host: HTMLElement; root: HTMLElement } | null = null;
  #tour: TourRun | null = null;
  #shown = new Map<string, () => void>();
  #checklists = new Map<string, { remove: () => void; refresh: () => void; open: () => void }>();
  #itemsDone = new Map<string, Set<string>>();
  #ended = new Set<string>();
  #teardown: (() => void)[] = [];
  #loading = 0;
  #lastUrl = '';
  #lastLoad = 0;
  #w: typeof Widgets | null = null;
  #editor: (() => void) | null = null;

  constructor(defaultApi?: string) {
    if (defaultApi) this.#api = defaultApi;
  }

  // ---- public API (never throws) ----

  init(options: InitOptions): void {
    this.guard(() => {
      if (!options || typeof options.key !== 'string' || !/^pk_/.test(options.key)) {
        this.warn('init: a publishable key (pk_…) is required');
        return;
      }
      this.#destroy();
      this.#opts = { ...options };
      // `?spotlight_preview=1` (the dashboard's "Preview on a page") turns draft preview on for this tab.
      if (/[?&]spotlight_preview=1/.test(location.search)) this.session.set('spotlight:preview', '1');
      if (this.session.get('spotlight:preview') === '1') this.#opts.preview = true;
      if (options.apiUrl) this.#api = options.apiUrl.replace(/\/$/, '');
      const scope = `spotlight:${options.key.slice(-8)}`;
      this.#user = options.userId || this.#anonymousId(scope);
      this.#sessionId = this.session.get('spotlight:session') ?? uuidv4();
      this.session.set('spotlight:session', this.#sessionId);
      this.#queue = new EventQueue({
        send: (body, keepalive) => this.#post(body, keepalive),
        beacon: (body) => {
          try {
            const url = `${this.#api}/v1/sdk/events?key=${encodeURIComponent(this.#opts?.key ?? '')}`;
            return navigator.sendBeacon?.(url, new Blob([body], { type: 'text/plain' })) ?? false;
          } catch { return false; }
        },
      }, this.#local, `${scope}:queue`);
      this.#listen();
      void this.load();
    })();
  }

  identify(userId: string, attributes?: Record<string, unknown>, userToken?: string): void {
    this.guard(() => {
      if (!this.#opts || typeof userId !== 'string' || !userId) return;
      const changed = userId !== this.#user;
      this.#user = userId;
      this.#opts.userId = userId;
      if (userToken) this.#opts.userToken = userToken;
      if (attributes) {
        this.#opts.attributes = { ...this.#opts.attributes, ...attributes };
        this.track('identify', attributes);
      }
      if (changed || attributes) { this.#removeAll(); void this.load(); }
    })();
  }

  track(name: string, properties?: Record<string, unknown>): void {
    this.guard(() => {
      if (!this.#queue || typeof name !== 'string' || !name) return;
      this.#queue.push({ name: name.slice(0, 64), user_id: this.#user, session_id: this.#sessionId, properties: properties ?? {} });
      const cfg = this.#config;
      if (!cfg?.enabled) return;
      // Event triggers and checklist items completed by this event.
      for (const t of cfg.tours) {
        if (t.document.trigger?.type === 'event' && t.document.trigger.event === name) this.startTour(t.id, 'event');
      }
      for (const c of cfg.content) {
        if (c.document.trigger?.type === 'event' && c.document.trigger.event === name) this.#showOne(c, true);
      }
      for (const c of cfg.checklists) {
        for (const it of c.document.items) {
          if (it.completed_by.type === 'event' && it.completed_by.event === name) this.#tick(c.id, it.id);
        }
      }
    })();
  }

  start(tourId: string): boolean {
    let ok = false;
    this.guard(() => { ok = this.startTour(tourId, 'manual'); })();
    return ok;
  }

  stop(): void {
    this.guard(() => { this.#tour?.remove(); this.#tour = null; })();
  }

  reset(): void {
    this.guard(() => {
      if (!this.#opts) return;
      const scope = `spotlight:${this.#opts.key.slice(-8)}`;
      this.#local.remove(`${scope}:anon`);
      this.#local.remove(`${scope}:config`);
      this.session.remove(RESUME_KEY);
      const opts = { ...this.#opts, userId: undefined, userToken: undefined, attributes: undefined };
      this.init(opts);
    })();
  }

  on(event: string, handler: (detail: Record<string, unknown>) => void): () => void {
    if (typeof handler !== 'function') return () => {};
    const set = this.#handlers.get(event) ?? new Set();
    set.add(handler);
    this.#handlers.set(event, set);
    return () => set.delete(handler);
  }

  // ---- Host (for the renderers) ----

  get hostEl(): HTMLElement { return this.#ensureRoot().host; }

  ui(): HTMLElement { return this.#ensureRoot().root; }

  #ensureRoot(): { host: HTMLElement; root: HTMLElement } {
    if (!this.#shadow) this.#shadow = createRoot();
    if (!this.#shadow.host.isConnected) document.documentElement.append(this.#shadow.host);
    return this.#shadow;
  }

  theme(el: HTMLElement, themeId: string | undefined): void {
    const cfg = this.#config;
    if (!cfg) return;
    const id = themeId && cfg.themes[themeId] ? themeId : cfg.default_theme_id;
    const theme = id ? cfg.themes[id] : undefined;
    applyTheme(el, theme, (m) => this.warn(m));
    const z = theme?.tokens?.z_index_base;
    if (typeof z === 'number' && z > 0 && z < 2147483000 && this.#shadow) this.#shadow.host.style.setProperty('z-index', String(z), 'important');
  }

  emit(event: string, detail: Record<string, unknown>): void {
    for (const h of this.#handlers.get(event) ?? []) {
      try { h(detail); } catch (e) { this.warn(`an "${event}" handler threw: ${String(e)}`); }
    }
  }

  warn(message: string): void {
    if (this.#opts?.debug) console.warn(`[spotlight] ${message}`);
  }

  guard<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void {
    return (...a: A) => {
      try { fn(...a); } catch (e) {
        this.warn(`internal error: ${String(e)}`);
        this.emit('error', { message: String(e) });
      }
    };
  }

  flush(): void { this.#queue?.flushOnHide(); }

  navigate(url: string): void { location.assign(url); }

  tourEnded(run: TourRun, _how: 'completed' | 'dismissed'): void {
    this.#ended.add(run.id);
    this.session.set('spotlight:ended', JSON.stringify([...this.#ended]));
    if (this.#tour === run) this.#tour = null;
    // A finished tour may tick checklist items.
    for (const c of this.#config?.checklists ?? []) {
      for (const it of c.document.items) {
        if (_how === 'completed' && it.completed_by.type === 'tour' && it.completed_by.tour_id === run.id) this.#tick(c.id, it.id);
      }
    }
  }

  startTour(id: string, trigger: string): boolean {
    const item = this.#config?.enabled ? this.#config.tours.find((t) => t.id === id) : undefined;
    if (!item || !item.document.steps?.length) {
      this.warn(`start: tour ${id} is not available to this user on this page`);
      return false;
    }
    this.#tour?.remove();
    this.#tour = new TourRun(this, item, trigger);
    this.#exposed(item);
    this.#tour.start();
    return true;
  }

  previewing(): boolean { return !!this.#opts?.preview; }

  setPreview(on: boolean): void {
    if (!this.#opts) return;
    this.#opts.preview = on;
    this.session.set('spotlight:preview', on ? '1' : '');
    this.#editor?.();
    this.#editor = null;
    this.#removeAll();
    void this.load();
  }

  apiOrigin(): string {
    try { return new URL(this.#api).origin; } catch { return location.origin; }
  }

  openChecklist(id: string): void {
    this.#checklists.get(id)?.open();
  }

  // ---- internals ----

  #anonymousId(scope: string): string {
    const saved = this.#local.get(`${scope}:anon`);
    if (saved && /^anon-[0-9a-f-]{36}$/.test(saved)) return saved;
    const id = `anon-${uuidv4()}`;
    this.#local.set(`${scope}:anon`, id);
    return id;
  }

  #headers(): Record<string, string> {
    const h: Record<string, string> = { 'X-Spotlight-Key': this.#opts?.key ?? '' };
    if (this.#opts?.userToken) h.Authorization = `Bearer ${this.#opts.userToken}`;
    return h;
  }

  async #post(body: string, keepalive: boolean): Promise<number> {
    try {
      const r = await fetch(`${this.#api}${this.#config?.settings?.events_url ?? '/v1/sdk/events'}`, {
        method: 'POST', body, keepalive, credentials: 'omit',
        headers: { ...this.#headers(), 'Content-Type': 'application/json' },
      });
      return r.status;
    } catch {
      return 0;
    }
  }

  #cached(): Cached[] {
    try {
      const v: unknown = JSON.parse(this.#local.get(`spotlight:${this.#opts?.key.slice(-8)}:config`) ?? '[]');
      return Array.isArray(v) ? (v as Cached[]) : [];
    } catch { return []; }
  }

  /** Fetches the config for this user and page, then shows what it says. */
  async load(): Promise<void> {
    const opts = this.#opts;
    if (!opts) return;
    const seq = ++this.#loading;
    this.#lastUrl = location.href;
    this.#lastLoad = Date.now();
    const q = new URLSearchParams({ user_id: this.#user, url: location.href.slice(0, 2000), session_id: this.#sessionId });
    const locale = opts.locale ?? navigator.language;
    if (locale) q.set('locale', locale);
    if (opts.attributes) q.set('attributes', JSON.stringify(opts.attributes));
    if (opts.preview) q.set('preview', 'true');
    const k = `${this.#user}|${location.pathname}|${locale}`;
    const cache = this.#cached();
    const hit = cache.find((c) => c.k === k);
    let config: Config | null = null;
    try {
      const r = await fetch(`${this.#api}/v1/sdk/config?${q}`, {
        headers: hit ? { ...this.#headers(), 'If-None-Match': hit.etag } : this.#headers(),
        credentials: 'omit',
        cache: 'no-store',
      });
      if (r.status === 304 && hit) config = hit.config;
      else if (r.ok) {
        config = (await r.json()) as Config;
        const etag = r.headers.get('ETag');
        if (etag) {
          const next = [{ k, etag, config }, ...cache.filter((c) => c.k !== k)].slice(0, MAX_CACHED);
          this.#local.set(`spotlight:${opts.key.slice(-8)}:config`, JSON.stringify(next));
        }
      } else if (r.status >= 500 || r.status === 429) {
        config = hit?.config ?? null; // the last good config, while the API struggles
      } else {
        this.warn(`config refused: ${r.status}`);
        config = { enabled: false } as Config; // a revoked key or a refused origin: show nothing
      }
    } catch {
      config = hit?.config ?? null; // offline
    }
    if (seq !== this.#loading || !config) return;
    this.#apply(config);
  }

  #apply(cfg: Config): void {
    this.#config = cfg;
    if (!cfg.enabled) { this.#removeAll(); return; }
    if (cfg.user?.id && cfg.user.id !== this.#user && this.#opts?.userId === undefined) this.#user = cfg.user.id;
    const ids = new Set([...cfg.content, ...cfg.checklists, ...cfg.launchers].map((i) => i.id));
    for (const [id, rm] of this.#shown) if (!ids.has(id)) { rm(); this.#shown.delete(id); }
    for (const [id, c] of this.#checklists) if (!ids.has(id)) { c.remove(); this.#checklists.delete(id); }
    if (cfg.launchers.length || cfg.checklists.length || cfg.content.length) {
      widgets(this.#api).then((w) => this.guard(() => {
        this.#w = w;
        if (this.#config !== cfg) return;
        for (const l of cfg.launchers) this.#showLauncher(l);
        for (const c of cfg.checklists) this.#showChecklist(c);
        for (const c of cfg.content) if ((c.document.trigger?.type ?? 'page') === 'page') this.#showOne(c, false);
      })(), (e: unknown) => this.warn(String(e)));
    }
    for (const x of cfg.experiments ?? []) {
      if (x.holdout) this.#exposedOnce(x.object_id, x.arm);
    }
    // A tour that is running stays while it is still delivered (or its next step lives here).
    if (this.#tour && !cfg.tours.some((t) => t.id === this.#tour?.id)) { this.#tour.remove(); this.#tour = null; }
    if (!this.#tour) this.#autoStart(cfg);
    if (cfg.user?.is_admin && !this.#editor) {
      // The editor chunk is fetched for in-app admins only.
      this.#editor = () => {};
      editor(this.#api).then((m) => this.guard(() => { this.#editor = m.mount(this); })(), (e: unknown) => this.warn(String(e)));
    }
    this.emit('ready', { userId: this.#user });
  }

  #autoStart(cfg: Config): void {
    try {
      this.#ended = new Set(JSON.parse(this.session.get('spotlight:ended') ?? '[]') as string[]);
    } catch { /* keep */ }
    type Resume = { id: string; step: number; item?: Delivered<Tour> } | null;
    let resume: Resume = null;
    try { resume = JSON.parse(this.session.get(RESUME_KEY) ?? 'null') as Resume; } catch { /* none */ }
    const item = resume?.item;
    const carried = item && item.id === resume?.id && !cfg.tours.some((t) => t.id === item.id) ? [item] : [];
    for (const t of [...carried, ...cfg.tours]) {
      const p = cfg.progress?.[t.id];
      const steps = t.document.steps ?? [];
      let at = -1;
      if (resume?.id === t.id) at = resume.step;
      else if (p?.step_reached !== undefined && !p.completed && !p.dismissed) {
        // Multi-page: the first step from where the user got to that lives on this page.
        at = steps.findIndex((s, i) => i >= p.step_reached! && !!s.page_url && samePath(s.page_url));
      }
      if (at >= 0 && at < steps.length && !this.#ended.has(t.id)) {
        this.#tour = new TourRun(this, t, 'resume');
        this.#tour.start(at);
        if (at === 0) this.#exposed(t);
        return;
      }
    }
    const first = cfg.tours.find((t) => (t.document.trigger?.type ?? 'page') === 'page' && !this.#ended.has(t.id));
    if (first) this.startTour(first.id, 'page');
  }

  #showOne(c: Delivered<Content>, force: boolean): void {
    const w = this.#w;
    if (!w || this.#shown.has(c.id) || (!force && this.#ended.has(c.id))) return;
    if (c.document.type === 'modal' && (this.#tour || [...this.#shown.keys()].some((id) => this.#config?.content.find((x) => x.id === id)?.document.type === 'modal'))) return;
    this.#exposed(c);
    const rm = w.showContent(this, c, () => {
      this.#shown.delete(c.id);
      this.#ended.add(c.id);
      this.session.set('spotlight:ended', JSON.stringify([...this.#ended]));
    });
    this.#shown.set(c.id, rm);
  }

  #showLauncher(l: Delivered<Launcher>): void {
    const w = this.#w;
    if (!w || this.#shown.has(l.id)) return;
    const titles = (kind: string, id: string) => {
      const list: Delivered<Tour | Checklist>[] = kind === 'tour' ? this.#config?.tours ?? [] : this.#config?.checklists ?? [];
      const found = list.find((x) => x.id === id);
      return found ? ('title' in found.document ? found.document.title : found.document.name) : undefined;
    };
    this.#shown.set(l.id, w.showLauncher(this, l, titles));
  }

  #showChecklist(c: Delivered<Checklist>): void {
    const w = this.#w;
    if (!w || this.#checklists.has(c.id) || this.#local.get(`spotlight:cl-hidden:${c.id}`)) return;
    const done = this.#itemsDone.get(c.id) ?? new Set<string>();
    this.#itemsDone.set(c.id, done);
    this.#checklists.set(c.id, w.showChecklist(this, c, this.#config?.progress?.[c.id], done, () => {
      this.#checklists.delete(c.id);
      this.#local.set(`spotlight:cl-hidden:${c.id}`, '1');
    }));
  }

  #tick(checklistId: string, itemId: string): void {
    const done = this.#itemsDone.get(checklistId) ?? new Set<string>();
    this.#itemsDone.set(checklistId, done);
    if (done.has(itemId)) return;
    // The server ticks items completed by events and tours itself; this only redraws.
    done.add(itemId);
    this.#checklists.get(checklistId)?.refresh();
  }

  #exposed(item: Delivered<unknown>): void {
    if (item.arm) this.#exposedOnce(item.id, item.arm);
  }

  #exposedOnce(objectId: string, arm: string): void {
    const k = `spotlight:exposed:${objectId}`;
    if (this.session.get(k) === arm) return;
    this.session.set(k, arm);
    this.track('experiment_exposed', { object_id: objectId, arm, url: location.href.slice(0, 2000) });
  }

  #listen(): void {
    const onNav = this.guard(() => {
      if (location.href === this.#lastUrl) return;
      void this.load();
    });
    // Single-page apps: history changes, no polling.
    const hist = history as History & Record<string, unknown>;
    for (const m of ['pushState', 'replaceState'] as const) {
      const orig = history[m];
      const patched = function (this: History, ...a: Parameters<History['pushState']>) {
        const r = orig.apply(this, a);
        queueMicrotask(onNav);
        return r;
      };
      hist[m] = patched;
      this.#teardown.push(() => { if (hist[m] === patched) hist[m] = orig; });
    }
    const on = <E extends Event>(t: string, fn: (e: E) => void, target: Window | Document = window) => {
      const g = this.guard(fn as (e: Event) => void);
      target.addEventListener(t, g, true);
      this.#teardown.push(() => target.removeEventListener(t, g, true));
    };
    on('popstate', onNav);
    on('hashchange', onNav);
    on('pagehide', () => this.flush());
    on('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.flush();
      else if (Date.now() - this.#lastLoad > 30_000) void this.load();
    }, document);
    on<MouseEvent>('click', (e) => {
      for (const t of this.#config?.enabled ? this.#config.tours : []) {
        const tr = t.document.trigger;
        if (tr?.type !== 'click' || this.#tour?.id === t.id) continue;
        const el = resolve(tr.target);
        if (el && e.composedPath().includes(el)) this.startTour(t.id, 'click');
      }
    }, document);
    const refresh = window.setInterval(this.guard(() => {
      if (document.visibilityState !== 'hidden') void this.load();
    }), Math.max(30, this.#config?.settings?.refresh_seconds ?? 300) * 1000);
    this.#teardown.push(() => clearInterval(refresh));
  }

  #removeAll(): void {
    this.#editor?.();
    this.#editor = null;
    this.#tour?.remove();
    this.#tour = null;
    for (const rm of this.#shown.values()) rm();
    this.#shown.clear();
    for (const c of this.#checklists.values()) c.remove();
    this.#checklists.clear();
    this.#shadow?.host.remove();
  }

  #destroy(): void {
    this.#removeAll();
    for (const t of this.#teardown.splice(0)) t();
    this.#config = null;
    this.#loading++;
  }
}


