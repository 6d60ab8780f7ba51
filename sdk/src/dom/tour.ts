// One running tour: shows its steps one at a time (tooltip, modal, hotspot,
// highlight, survey), follows the target while a step is up, answers the
// keyboard (← → Esc) when focus is in the step, moves focus in and gives it
// back, and reports every step. A step whose target never appears is skipped.
//
// A guest in a single-page app: a step whose target leaves the DOM (a route
// change, a re-render, a closed dialog) hides at once and comes back on the
// element that replaces it; a step of another page waits until the user gets
// there (`route()`), and the tour navigates only when a step button asks.

import type { Button, Delivered, Step, Tour } from '../types';
import { computePosition, cutoutPath, mirror } from '../core/position';
import { resolve, shownRect, waitFor } from './target';
import { closeButton, h, ours, raise, reducedMotion, richText, samePath, trapFocus } from './ui';
import type { Host } from './host';
import type * as Widgets from './widgets';

const KINDS = new Set(['tooltip', 'modal', 'hotspot', 'highlight', 'survey']);
export const RESUME_KEY = 'spotlight:resume';
/** The SDK's own corner widgets, which a step is kept clear of. */
const WIDGETS = '.cl,.lb,.so,.menu';

export class TourRun {
  readonly id: string;
  index = -1;
  #box: HTMLElement | null = null;
  #parts: (HTMLElement | SVGElement)[] = [];
  #cleanup: (() => void)[] = [];
  #returnFocus: Element | null;
  #ended = false;
  #seq = 0;
  /** The current step lives on another page: nothing is shown until the user is there. */
  #away = false;
  #viewed = new Set<number>();
  /** Whether the current step is on screen (not waiting for its page or target). */
  #shown = false;

  #host: Host;
  #trigger: string;

  constructor(host: Host, readonly item: Delivered<Tour>, trigger: string) {
    this.#host = host;
    this.#trigger = trigger;
    this.id = item.id;
    this.#returnFocus = document.activeElement;
  }

  get #steps(): Step[] { return this.item.document.steps; }

  #props(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const s = this.#steps[this.index];
    return { tour_id: this.id, version: this.item.version, url: location.href.slice(0, 2000), ...(s ? { step: this.index, step_id: s.id || undefined } : {}), ...extra };
  }

  /** `nav`: the user asked for this tour (a checklist, launcher or content button), so it may take them to its page. */
  start(at = 0, nav = false): void {
    if (at === 0) {
      this.#host.track('tour_started', { tour_id: this.id, version: this.item.version, url: location.href.slice(0, 2000), trigger: this.#trigger });
      this.#host.emit('tour_started', { tourId: this.id });
    }
    this.go(at, 1, nav);
  }

  /** Shows step `i` (searching in direction `dir` past skipped steps); never rejects. */
  go(i: number, dir: 1 | -1, nav = true): void {
    this.#show(i, dir, nav).catch((e: unknown) => {
      this.#host.warn(`tour ${this.id}: ${String(e)}`);
      this.remove();
    });
  }

  /** The page changed (history, hash): hide what is not of this page, show what is. */
  route(): void {
    const s = this.#steps[this.index];
    if (this.#ended || !s) return;
    const here = !s.page_url || samePath(s.page_url);
    // The first step from where the user got to that names this page.
    const next = this.#steps.findIndex((st, k) => k > this.index && !!st.page_url && samePath(st.page_url));
    if (s.page_url && here) {
      if (this.#away) this.go(this.index, 1, false);
    } else if (next > 0 && !(here && this.#shown)) {
      this.go(next, 1, false);
    } else if (!here) {
      this.#clear();
      this.#away = true;
    }
  }

  async #show(i: number, dir: 1 | -1, nav: boolean): Promise<void> {
    if (this.#ended) return;
    const seq = ++this.#seq;
    this.#clear();
    const step = this.#steps[i];
    if (!step) return this.finish(i >= this.#steps.length ? 'completed' : 'dismissed', false);
    this.index = i;
    this.#away = !!step.page_url && !samePath(step.page_url);
    // The document goes along: the next page's config may be fetched before
    // the server has this page's events, and the tour must still resume.
    this.#host.session.set(RESUME_KEY, JSON.stringify({ id: this.id, step: i, item: this.#away ? this.item : undefined }));
    if (this.#away) {
      if (nav) {
        this.#host.flush();
        this.#host.navigate(step.page_url!);
      }
      return;
    }
    if (!KINDS.has(step.kind)) {
      this.#host.warn(`tour ${this.id} step ${i}: unknown kind ${String(step.kind)}, skipped`);
      return this.#show(i + dir, dir, nav);
    }
    let el: Element | null = null;
    if (step.target && step.kind !== 'modal') {
      el = await waitFor(step.target, step.wait_for_target_ms ?? 5000);
      if (seq !== this.#seq || this.#ended) return;
      if (!el && step.kind !== 'survey') {
        this.#host.warn(`tour ${this.id} step ${i}: target not found, skipped`);
        this.#host.emit('step_skipped', { tourId: this.id, step: i, reason: 'target_not_found' });
        this.#host.track('spotlight:step_skipped', { tour_id: this.id, step: i, reason: 'target_not_found' });
        return this.#show(i + dir, dir, nav);
      }
    }
    // Survey controls live in the lazy widgets chunk.
    const survey = step.kind === 'survey' && step.survey ? (await this.#host.widgets()).survey : null;
    if (seq !== this.#seq || this.#ended) return;
    this.#shown = true;
    this.#render(step, el, survey);
    if (!this.#viewed.has(i)) {
      this.#viewed.add(i);
      this.#host.track('step_viewed', this.#props());
      this.#host.emit('step_viewed', { tourId: this.id, step: i });
    }
  }

  #render(step: Step, el: Element | null, survey: typeof Widgets.survey | null): void {
    const root = this.#host.ui();
    raise(this.#host.hostEl);
    const n = this.#steps.length;
    const titleId = `sl-t-${this.#seq}`;
    const bodyId = `sl-b-${this.#seq}`;
    const centred = !el || step.kind === 'modal';
    const box = h('div', {
      class: centred ? 'card st modal' : 'card st',
      role: 'dialog',
      'aria-modal': centred ? 'true' : undefined,
      'aria-labelledby': step.title ? titleId : undefined,
      'aria-label': step.title ? undefined : `Step ${this.index + 1} of ${n}`,
      'aria-describedby': bodyId,
      tabindex: -1,
    });
    this.#host.theme(box, this.item.document.theme_id);
    box.append(closeButton('Close tour', () => this.finish('dismissed')));
    if (step.title) box.append(h('div', { class: 't', id: titleId }, step.title));
    box.append(richText(step.body, bodyId));
    if (survey && step.survey) {
      box.append(survey(this.#host, step.survey, (answer) => {
        this.#host.track('survey_answered', this.#props(answer));
        this.#host.emit('survey_answered', { tourId: this.id, step: this.index, answer });
        this.next();
      }));
    }
    box.append(this.#footer(step));
    const backdrop = step.kind === 'highlight' || (step.backdrop !== false && step.kind !== 'hotspot');
    if (backdrop) this.#overlay(step, !!el);
    this.#box = box;
    if (step.kind === 'hotspot' && el) {
      // A beacon on the element; the text opens from it.
      const beacon = h('button', { class: 'hs', 'aria-label': step.title || 'Show tip', 'aria-expanded': 'false' });
      let open = false;
      beacon.addEventListener('click', () => {
        if (open) return;
        beacon.setAttribute('aria-expanded', 'true');
        open = true;
        root.append(box);
        this.#parts.push(box);
        box.focus({ preventScroll: true });
      });
      root.append(beacon);
      this.#parts.push(beacon);
      this.#follow(el, step, () => (open ? box : null), beacon);
    } else {
      root.append(box);
      this.#parts.push(box);
      if (el) this.#follow(el, step, () => box, null);
      else this.#dodge([box.getBoundingClientRect()]);
      box.focus({ preventScroll: true });
    }
    // Keys act only while focus is in the step: Esc in the host's own dialog is the host's.
    const keys = (e: KeyboardEvent) => this.#host.guard(() => { if (ours(e, this.#host.hostEl)) this.#key(e, centred); })();
    document.addEventListener('keydown', keys, true);
    this.#cleanup.push(() => document.removeEventListener('keydown', keys, true));
  }

  #footer(step: Step): HTMLElement {
    const n = this.#steps.length;
    const last = this.index === n - 1;
    let buttons: Button[] = step.buttons ?? [];
    if (!buttons.length && step.kind !== 'survey' && (step.advance_on ?? 'button') === 'button') {
      buttons = [
        ...(this.index > 0 ? [{ action: 'back', label: 'Back' } as const] : []),
        last ? { action: 'done', label: 'Done' } as const : { action: 'next', label: 'Next' } as const,
      ];
    }
    const f = h('div', { class: 'f' }, n > 1 ? h('span', { class: 'n' }, `${this.index + 1} of ${n}`) : null);
    for (const b of buttons) {
      const primary = b.action === 'next' || b.action === 'done';
      f.append(h('button', { class: primary ? 'p' : undefined, onclick: () => this.#host.guard(() => this.#press(b))() }, b.label));
    }
    return f;
  }

  #press(b: Button): void {
    switch (b.action) {
      case 'next': return this.next();
      case 'back': this.go(this.index - 1, -1); return;
      case 'skip': return this.finish('dismissed');
      case 'done': return this.finish('completed');
      case 'link':
        if (/^(https?:)?\/\//i.test(b.url) || b.url.startsWith('/')) window.open(b.url, '_blank', 'noopener');
        return this.next();
      case 'goto': this.go(b.step, b.step >= this.index ? 1 : -1); return;
    }
  }

  next(): void {
    if (this.#ended) return;
    this.#host.track('step_completed', this.#props());
    this.go(this.index + 1, 1);
  }

  #key(e: KeyboardEvent, modal: boolean): void {
    if (e.key === 'Escape') { e.stopPropagation(); this.finish('dismissed'); }
    else if (e.key === 'ArrowRight' && !this.#typing(e)) this.next();
    else if (e.key === 'ArrowLeft' && !this.#typing(e) && this.index > 0) this.go(this.index - 1, -1);
    else if (modal && this.#box) trapFocus(this.#box, e);
  }

  #typing(e: KeyboardEvent): boolean {
    const t = e.composedPath()[0];
    return t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || (t instanceof HTMLElement && t.isContentEditable);
  }

  #overlay(step: Step, targeted: boolean): void {
    const root = this.#host.ui();
    const svgNs = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('class', 'ov');
    svg.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS(svgNs, 'path');
    path.setAttribute('fill-rule', 'evenodd');
    svg.append(path);
    root.append(svg);
    this.#parts.push(svg);
    // Clicking the backdrop does nothing; the page behind stays inert.
    let block: HTMLElement | null = null;
    if (targeted && !step.interactive) {
      block = h('div', { class: 'blk' });
      root.append(block);
      this.#parts.push(block);
    }
    this.#draw = (r) => {
      const view = { width: innerWidth, height: innerHeight };
      svg.setAttribute('viewBox', `0 0 ${view.width} ${view.height}`);
      path.setAttribute('d', cutoutPath(view, r));
      if (block && r) Object.assign(block.style, { left: `${r.x - 6}px`, top: `${r.y - 6}px`, width: `${r.width + 12}px`, height: `${r.height + 12}px` });
    };
    this.#draw(null);
  }

  #draw: ((r: DOMRect | null) => void) | null = null;

  /**
   * Keeps the box (and beacon) beside the element through scroll, resize,
   * layout changes and re-renders: a detached or hidden target is looked up
   * again by its fingerprint (a framework replaced the node), and while none
   * shows, the step hides rather than point at nothing.
   */
  #follow(first: Element, step: Step, box: () => HTMLElement | null, beacon: HTMLElement | null): void {
    let el = first;
    const r0 = shownRect(el);
    if (!r0 || r0.top < 0 || r0.bottom > innerHeight || r0.left < 0 || r0.right > innerWidth) {
      el.scrollIntoView({ block: 'center', inline: 'nearest', behavior: reducedMotion() ? 'auto' : 'smooth' });
    }
    let unbind = () => {};
    const bind = (e: Element) => {
      unbind();
      el = e;
      if (step.advance_on && step.advance_on !== 'button') {
        const type = step.advance_on === 'click' ? 'click' : 'change';
        const go = () => setTimeout(() => this.next(), 0);
        e.addEventListener(type, go, { once: true });
        unbind = () => e.removeEventListener(type, go);
      }
    };
    bind(el);
    const arrow = h('div', { class: 'arr' });
    let last = '';
    let frame = 0;
    let looked = 0;
    const place = () => {
      let r = shownRect(el);
      if (!r && step.target && performance.now() - looked > 150) {
        looked = performance.now();
        const again = resolve(step.target);
        if (again && again !== el && (r = shownRect(again))) bind(again);
      }
      const b = box();
      if (b && !arrow.isConnected) b.append(arrow);
      // The part of the page on screen (pinch-zoom pans it over the layout viewport).
      const vv = visualViewport;
      const [ox, oy, vw, vh] = vv ? [vv.offsetLeft, vv.offsetTop, vv.width, vv.height] : [0, 0, innerWidth, innerHeight];
      const key = r ? `${r.x},${r.y},${r.width},${r.height},${ox},${oy},${vw},${vh},${b?.offsetWidth},${b?.offsetHeight}` : '';
      if (key !== last) {
        last = key;
        for (const p of this.#parts) p.style.display = r ? '' : 'none';
        this.#shown = !!r;
        if (r) {
          this.#draw?.(r);
          if (beacon) Object.assign(beacon.style, { left: `${r.x + r.width - 9}px`, top: `${r.y - 9}px` });
          if (b?.isConnected) {
            const p = computePosition(new DOMRect(r.x - ox, r.y - oy, r.width, r.height), { width: b.offsetWidth, height: b.offsetHeight }, { width: vw, height: vh }, this.#host.ui().dir === 'rtl' ? mirror(step.placement) : step.placement);
            Object.assign(b.style, { left: `${p.x + ox}px`, top: `${p.y + oy}px` });
            const vertical = p.side === 'top' || p.side === 'bottom';
            Object.assign(arrow.style, {
              left: vertical ? `${p.arrow - 6}px` : p.side === 'left' ? 'auto' : '-6px',
              right: p.side === 'left' ? '-6px' : 'auto',
              top: vertical ? (p.side === 'top' ? 'auto' : '-6px') : `${p.arrow - 6}px`,
              bottom: p.side === 'top' ? '-6px' : 'auto',
            });
          }
        }
      }
      // Widgets move on their own (a banner arrives, a host control appears): checked every frame.
      this.#dodge(r ? [r, ...(b?.isConnected ? [b.getBoundingClientRect()] : [])] : []);
      frame = requestAnimationFrame(place);
    };
    place();
    this.#cleanup.push(() => { cancelAnimationFrame(frame); unbind(); });
  }

  /** The SDK's own widgets step aside (hidden) while they overlap the step or its target. */
  #dodge(rects: DOMRect[]): void {
    this.#host.ui().querySelectorAll<HTMLElement>(WIDGETS).forEach((w) => {
      const a = w.getBoundingClientRect();
      const over = rects.some((r) => a.left < r.right && r.left < a.right && a.top < r.bottom && r.top < a.bottom);
      w.style.visibility = over ? 'hidden' : '';
    });
  }

  #clear(): void {
    for (const c of this.#cleanup.splice(0)) c();
    for (const p of this.#parts.splice(0)) p.remove();
    this.#draw = null;
    this.#box = null;
    this.#shown = false;
    this.#dodge([]);
  }

  finish(how: 'completed' | 'dismissed', stepDone = true): void {
    if (this.#ended) return;
    this.#clear();
    this.#ended = true;
    this.#host.session.remove(RESUME_KEY);
    const at = Math.min(Math.max(this.index, 0), this.#steps.length - 1);
    const props = { tour_id: this.id, version: this.item.version, url: location.href.slice(0, 2000), step: at };
    if (how === 'completed') {
      if (stepDone) this.#host.track('step_completed', this.#props());
      this.#host.track('tour_completed', props);
    } else {
      this.#host.track('tour_dismissed', props);
    }
    this.#host.tourEnded(this, how);
    this.#host.emit(how === 'completed' ? 'tour_completed' : 'tour_dismissed', { tourId: this.id });
    if (this.#returnFocus instanceof HTMLElement && this.#returnFocus.isConnected) this.#returnFocus.focus({ preventScroll: true });
  }

  /** Removed without an event (kill switch, navigation away, `stop()`). */
  remove(): void {
    this.#clear();
    this.#ended = true;
  }
}
