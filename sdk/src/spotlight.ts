// One SDK instance: who the user is, the config for the current page (fetched
// with its ETag, kept in localStorage for when the API is unreachable), the event
// queue, and what is on screen. Everything the host page calls goes through
// `guard`, so an SDK fault never becomes the page's exception.

import type { Config, Delivered, InitOptions, Tour } from './types';
import { EventQueue } from './core/queue';
import { uuidv4 } from './core/uuid';
import { resolve } from './dom/target';
import { adopt, applyTheme, createRoot, samePath } from './dom/ui';
import { RESUME_KEY, TourRun } from './dom/tour';
import { editor, widgets } from './chunks/load';
import type * as Widgets from './dom/widgets';
import type { Host, KV } from './dom/host';

export interface SpotlightApi {
  init(options: InitOptions): void;
  identify(userId: string, attributes?: Record<string, unknown>, userToken?: string): void;
  group(accountId: string, attributes?: Record<string, unknown>): void;
  track(name: string, properties?: Record<string, unknown>): void;
  start(tourId: string): boolean;
  stop(): void;
  reset(): void;
  on(event: string, handler: (detail: Record<string, unknown>) => void): () => void;
  optOut(): void;
  optIn(): void;
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
/** The last good config per user, path and locale, for when the API is unreachable. */
interface Cached { k: string; config: Config }

export class Spotlight implements Host, SpotlightApi {
  #opts: InitOptions | null = null;
  #api = location.origin;
  #user = '';
  #queue: EventQueue | null = null;
  readonly localKV = storage('localStorage');
  readonly session = storage('sessionStorage');
  #sessionId = '';
  #config: Config | null = null;
  #handlers = new Map<string, Set<(d: Record<string, unknown>) => void>>();
  #shadow: { host: HTMLElement; root: HTMLElement } | null = null;
  #tour: TourRun | null = null;
  /** Announcements, checklists and launchers on screen (the widgets chunk's). */
  #shelf: Widgets.Shelf | null = null;
  /** Tours and announcements ended in this session. */
  readonly endedIds = new Set<string>();
  #teardown: (() => void)[] = [];
  #loading = 0;
  #lastUrl = '';
  #lastLoad = 0;
  /** A config fetch is scheduled (so calls made together cause one request). */
  #due: ReturnType<typeof setTimeout> | undefined;
  #asks = 0;
  /** `waitForIdentify`: no request until the host says who the user is. */
  #held = false;
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
      const scope = this.#scope();
      // The anonymous id is made only if nobody identifies the user before the first request.
      this.#user = options.userId || '';
      const wait = options.waitForIdentify;
      this.#held = !!wait && !options.userId;
      if (typeof wait === 'number') setTimeout(() => { if (this.#held) { this.#held = false; this.#schedule(0); } }, wait);
      this.#sessionId = this.session.get('spotlight:session') ?? uuidv4();
      this.session.set('spotlight:session', this.#sessionId);
      // Opted out: no queue, so no event is kept or sent.
      this.#queue = this.#out() ? null : new EventQueue({
        send: (body, keepalive) => this.#post(body, keepalive),
        beacon: (body) => {
          try {
            return navigator.sendBeacon?.(this.#events(), new Blob([body], { type: 'text/plain' })) ?? false;
          } catch { return false; }
        },
      }, this.localKV, `${scope}:queue`);
      this.#listen();
      this.#schedule(0);
    })();
  }

  identify(userId: string, attributes?: Record<string, unknown>, userToken?: string): void {
    this.guard(() => {
      if (!this.#opts || typeof userId !== 'string' || !userId) return;
      const changed = userId !== this.#user;
      this.#user = userId;
      this.#opts.userId = userId;
      this.#held = false;
      if (userToken) this.#opts.userToken = userToken;
      if (attributes) {
        this.#opts.attributes = { ...this.#opts.attributes, ...attributes };
        this.track('identify', attributes);
      }
      if (changed || attributes || !this.#config) {
        if (this.#config) this.#removeAll();
        this.#schedule(0);
      }
    })();
  }

  /** The user's active account (their company); its attributes merge into the stored ones. */
  group(accountId: string, attributes?: Record<string, unknown>): void {
    this.guard(() => {
      const o = this.#opts;
      if (!o || !accountId) return;
      o.account = { id: accountId, attributes };
      this.#schedule(0);
    })();
  }

  track(name: string, properties?: Record<string, unknown>): void {
    this.guard(() => {
      if (!this.#queue || typeof name !== 'string' || !name) return;
      this.#queue.push({ name: name.slice(0, 64), user_id: this.#uid(), account_id: this.#opts?.account?.id, session_id: this.#sessionId, properties: properties ?? {} });
      const cfg = this.#config;
      if (!cfg?.enabled) return;
      // Event triggers and checklist items completed by this event.
      for (const t of cfg.tours) {
        if (t.document.trigger?.type === 'event' && t.document.trigger.event === name) this.startTour(t.id, 'event');
      }
      this.#shelf?.tracked(name);
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
      const scope = this.#scope();
      this.localKV.remove(`${scope}:anon`);
      this.localKV.remove(`${scope}:config`);
      this.session.remove(RESUME_KEY);
      const opts = { ...this.#opts, userId: undefined, userToken: undefined, attributes: undefined };
      this.init(opts);
    })();
  }

  /**
   * The user opts out (remembered on this device): what is on screen goes,
   * queued events are dropped, and no config is asked for and no event sent
   * until `optIn()`.
   */
  optOut(): void { this.#opt(true); }

  /** The user opts back in: content and events resume. */
  optIn(): void { this.#opt(false); }

  #out(): boolean { return this.localKV.get(`${this.#scope()}:optout`) === '1'; }

  #opt(out: boolean): void {
    this.guard(() => {
      const opts = this.#opts;
      if (!opts || out === this.#out()) return;
      const k = `${this.#scope()}:optout`;
      if (out) this.localKV.set(k, '1'); else this.localKV.remove(k);
      // Nothing queued is sent; starting over shows nothing while opted out.
      this.#queue?.clear();
      this.init(opts);
    })();
  }

  #scope(): string { return `spotlight:${this.#opts?.key.slice(-8)}`; }

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
    if (!this.#shadow.host.isConnected) {
      document.documentElement.append(this.#shadow.host);
      adopt(this.#shadow.host);
    }
    // Right-to-left pages get mirrored steps and widgets.
    this.#shadow.root.dir = getComputedStyle(document.body ?? document.documentElement).direction;
    return this.#shadow;
  }

  get options(): InitOptions | null { return this.#opts; }

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

  /** Only ever called by a step button the user pressed: the host's router if it gave one. */
  navigate(url: string): void {
    const go = this.#opts?.navigate;
    if (typeof go === 'function') go(url); else location.assign(url);
  }

  tourEnded(run: TourRun, how: 'completed' | 'dismissed'): void {
    this.end(run.id);
    if (this.#tour === run) this.#tour = null;
    // A finished tour may tick checklist items.
    if (how === 'completed') this.#shelf?.tourDone(run.id);
  }

  startTour(id: string, trigger: string): boolean {
    const item = this.#config?.enabled ? this.#config.tours.find((t) => t.id === id) : undefined;
    if (!item || !item.document.steps?.length) {
      this.warn(`start: tour ${id} is not available to this user on this page`);
      return false;
    }
    this.#tour?.remove();
    this.#tour = new TourRun(this, item, trigger);
    this.exposeArm(item);
    // A tour the user asked for from the SDK's own UI may take them to its first page.
    this.#tour.start(0, /^(checklist|launcher|content)$/.test(trigger));
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

  widgets(): Promise<typeof Widgets> { return widgets(this.#api); }

  openChecklist(id: string): void {
    this.#shelf?.open(id);
  }

  // ---- internals ----

  #uid(): string {
    return this.#user ||= this.#anonymousId(this.#scope());
  }

  /**
   * Fetches the config after `ms` (once, however many calls ask meanwhile),
   * and at most every 250 ms: a host that changes route in a loop gets the
   * config of where it settles, not a request per change.
   */
  #schedule(ms: number): void {
    clearTimeout(this.#due);
    const wait = Math.max(ms, this.#lastLoad + 250 - Date.now());
    const n = ++this.#asks;
    const go = () => { if (n === this.#asks && !this.#held) void this.load(); };
    // Now (after the calls made with this one): a timer waits for the page's first paint.
    if (wait > 0) this.#due = setTimeout(go, wait); else queueMicrotask(go);
  }

  #anonymousId(scope: string): string {
    const saved = this.localKV.get(`${scope}:anon`);
    if (saved && /^anon-[0-9a-f-]{36}$/.test(saved)) return saved;
    const id = `anon-${uuidv4()}`;
    this.localKV.set(`${scope}:anon`, id);
    return id;
  }

  #headers(): Record<string, string> {
    const h: Record<string, string> = { 'X-Spotlight-Key': this.#opts?.key ?? '' };
    if (this.#opts?.userToken) h.Authorization = `Bearer ${this.#opts.userToken}`;
    return h;
  }

  // The key rides in the query too: a beacon cannot set headers, and a
  // preflight (which carries none) is answered only for the key's origins.
  #events(): string {
    return `${this.#api}/v1/sdk/events?key=${encodeURIComponent(this.#opts?.key ?? '')}`;
  }

  async #post(body: string, keepalive: boolean): Promise<number> {
    try {
      const r = await fetch(this.#events(), {
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
      const v: unknown = JSON.parse(this.localKV.get(`${this.#scope()}:config`) ?? '[]');
      return Array.isArray(v) ? (v as Cached[]) : [];
    } catch { return []; }
  }

  /** Fetches the config for this user and page, then shows what it says. */
  async load(): Promise<void> {
    const opts = this.#opts;
    if (!opts || this.#out()) return;
    clearTimeout(this.#due);
    this.#asks++;
    this.#uid();
    const seq = ++this.#loading;
    this.#lastUrl = location.href;
    this.#lastLoad = Date.now();
    // A CORS-simple GET, so no preflight round trip comes first: the (public)
    // key rides in the query and the browser's own cache revalidates by ETag;
    // only a user token adds a header.
    const q = new URLSearchParams({ key: opts.key, user_id: this.#user, url: location.href.slice(0, 2000), session_id: this.#sessionId });
    const locale = opts.locale ?? navigator.language;
    if (locale) q.set('locale', locale);
    if (opts.attributes) q.set('attributes', JSON.stringify(opts.attributes));
    const acct = opts.account;
    if (acct) {
      q.set('account_id', acct.id);
      if (acct.attributes) q.set('account_attributes', JSON.stringify(acct.attributes));
    }
    if (opts.preview) q.set('preview', 'true');
    const k = `${this.#user}|${location.pathname}|${locale}`;
    const cache = this.#cached();
    const hit = cache.find((c) => c.k === k);
    let config: Config | null = null;
    try {
      const r = await fetch(`${this.#api}/v1/sdk/config?${q}`, {
        headers: opts.userToken ? { Authorization: `Bearer ${opts.userToken}` } : {},
        credentials: 'omit',
        cache: 'no-cache',
      });
      if (r.ok) {
        config = (await r.json()) as Config;
        const next = [{ k, config }, ...cache.filter((c) => c.k !== k)].slice(0, MAX_CACHED);
        this.localKV.set(`${this.#scope()}:config`, JSON.stringify(next));
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
    if (cfg.launchers.length || cfg.checklists.length || cfg.content.length || this.#shelf) {
      widgets(this.#api).then((w) => this.guard(() => {
        if (this.#config === cfg) (this.#shelf ??= new w.Shelf(this)).apply(cfg);
      })(), (e: unknown) => this.warn(String(e)));
    }
    for (const x of cfg.experiments ?? []) {
      if (x.holdout) this.#exposedOnce(x.object_id, x.arm);
    }
    // A tour that is running stays while it is delivered here, or is on its way through pages.
    const run = this.#tour;
    if (run && !cfg.tours.some((t) => t.id === run.id) && !run.item.document.steps.some((s) => s.page_url)) { run.remove(); this.#tour = null; }
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
      for (const id of JSON.parse(this.session.get('spotlight:ended') ?? '[]') as string[]) this.endedIds.add(id);
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
      if (at >= 0 && at < steps.length && !this.endedIds.has(t.id) && (at > 0 || this.#here(steps[0]!))) {
        this.#tour = new TourRun(this, t, 'resume');
        this.#tour.start(at);
        if (at === 0) this.exposeArm(t);
        return;
      }
    }
    // Never sends anyone elsewhere: a tour starts on the page of its first step.
    const first = cfg.tours.find((t) => (t.document.trigger?.type ?? 'page') === 'page' && !t.resume_only && !this.endedIds.has(t.id) && this.#here(t.document.steps?.[0]));
    if (first) this.startTour(first.id, 'page');
  }

  #here(s: { page_url?: string } | undefined): boolean {
    return !s?.page_url || samePath(s.page_url);
  }

  exposeArm(item: Delivered<unknown>): void {
    if (item.arm) this.#exposedOnce(item.id, item.arm);
  }

  /** Remembers for this session that a tour or announcement ended. */
  end(id: string): void {
    this.endedIds.add(id);
    this.session.set('spotlight:ended', JSON.stringify([...this.endedIds]));
  }

  get cfg(): Config | null { return this.#config; }

  get touring(): boolean { return !!this.#tour; }

  #exposedOnce(objectId: string, arm: string): void {
    const k = `spotlight:exposed:${objectId}`;
    if (this.session.get(k) === arm) return;
    this.session.set(k, arm);
    this.track('experiment_exposed', { object_id: objectId, arm, url: location.href.slice(0, 2000) });
  }

  #listen(): void {
    const onNav = this.guard(() => {
      if (location.href === this.#lastUrl) return;
      this.#lastUrl = location.href;
      // What belongs to the last page hides at once; the new page's config
      // follows once the route settles (a router may push several times).
      this.#tour?.route();
      this.#schedule(20);
    });
    // The host's modal dialogs, fullscreen and popovers: the root follows them (see `adopt`).
    const layer = this.guard(() => { if (this.#shadow) adopt(this.#shadow.host); });
    const mo = new MutationObserver(layer);
    mo.observe(document.documentElement, { subtree: true, attributeFilter: ['open'] });
    this.#teardown.push(() => mo.disconnect());
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
    on('fullscreenchange', layer, document);
    on('toggle', (e) => { if (e.target !== this.#shadow?.host) layer(); }, document);
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
    this.#shelf?.clear();
    this.#shadow?.host.remove();
  }

  #destroy(): void {
    this.#removeAll();
    for (const t of this.#teardown.splice(0)) t();
    this.#config = null;
    this.#loading++;
  }
}


