// One running tour: shows its steps one at a time (tooltip, modal, hotspot,
// highlight, survey), follows the target while a step is up, answers the
// keyboard (← → Esc), moves focus in and gives it back, and reports every
// step. A step whose target never appears is skipped and reported.

import type { Button, Delivered, Step, Tour } from '../types';
import { computePosition, cutoutPath, type Rect } from '../core/position';
import { rectOf, waitFor } from './target';
import { closeButton, h, raise, reducedMotion, richText, samePath, trapFocus } from './ui';
import { surveyControl } from './survey';
import type { Host } from './host';

const KINDS = new Set(['tooltip', 'modal', 'hotspot', 'highlight', 'survey']);
export const RESUME_KEY = 'spotlight:resume';

export class TourRun {
  readonly id: string;
  index = -1;
  #box: HTMLElement | null = null;
  #parts: Element[] = [];
  #cleanup: (() => void)[] = [];
  #returnFocus: Element | null;
  #ended = false;
  #seq = 0;

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

  start(at = 0): void {
    if (at === 0) {
      this.#host.track('tour_started', { tour_id: this.id, version: this.item.version, url: location.href.slice(0, 2000), trigger: this.#trigger });
      this.#host.emit('tour_started', { tourId: this.id });
    }
    this.go(at, 1);
  }

  /** Shows step `i` (searching in direction `dir` past skipped steps); never rejects. */
  go(i: number, dir: 1 | -1): void {
    this.#show(i, dir).catch((e: unknown) => {
      this.#host.warn(`tour ${this.id}: ${String(e)}`);
      this.remove();
    });
  }

  async #show(i: number, dir: 1 | -1): Promise<void> {
    if (this.#ended) return;
    const seq = ++this.#seq;
    this.#clear();
    const step = this.#steps[i];
    if (!step) return this.finish(i >= this.#steps.length ? 'completed' : 'dismissed', false);
    this.index = i;
    if (step.page_url && !samePath(step.page_url)) {
      // Multi-page: continue on the step's page.
      // The document goes along: the next page's config may be fetched before
      // the server has this page's events, and the tour must still resume.
      this.#host.session.set(RESUME_KEY, JSON.stringify({ id: this.id, step: i, item: this.item }));
      this.#host.flush();
      this.#host.navigate(step.page_url);
      return;
    }
    this.#host.session.set(RESUME_KEY, JSON.stringify({ id: this.id, step: i }));
    if (!KINDS.has(step.kind)) {
      this.#host.warn(`tour ${this.id} step ${i}: unknown kind ${String(step.kind)}, skipped`);
      return this.#show(i + dir, dir);
    }
    let el: Element | null = null;
    if (step.target && step.kind !== 'modal') {
      el = await waitFor(step.target, step.wait_for_target_ms ?? 5000);
      if (seq !== this.#seq || this.#ended) return;
      if (!el && step.kind !== 'survey') {
        this.#host.warn(`tour ${this.id} step ${i}: target not found, skipped`);
        this.#host.emit('step_skipped', { tourId: this.id, step: i, reason: 'target_not_found' });
        this.#host.track('spotlight:step_skipped', { tour_id: this.id, step: i, reason: 'target_not_found' });
        return this.#show(i + dir, dir);
      }
    }
    this.#render(step, el);
    this.#host.track('step_viewed', this.#props());
    this.#host.emit('step_viewed', { tourId: this.id, step: i });
  }

  #render(step: Step, el: Element | null): void {
    const root = this.#host.ui();
    raise(this.#host.hostEl);
    const n = this.#steps.length;
    const titleId = `sl-t-${this.#seq}`;
    const bodyId = `sl-b-${this.#seq}`;
    const centred = !el || step.kind === 'modal';
    const box = h('div', {
      class: centred ? 'card modal' : 'card',
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
    if (step.kind === 'survey' && step.survey) {
      box.append(surveyControl(step.survey, (answer) => {
        this.#host.track('survey_answered', this.#props(answer));
        this.#host.emit('survey_answered', { tourId: this.id, step: this.index, answer });
        this.next();
      }));
    }
    box.append(this.#footer(step));
    const backdrop = step.kind === 'highlight' || (step.backdrop !== false && step.kind !== 'hotspot');
    if (backdrop) this.#overlay(step, el);
    if (step.kind === 'hotspot' && el) {
      // A beacon on the element; the text opens from it.
      const beacon = h('button', { class: 'hs', 'aria-label': step.title || 'Show tip', 'aria-expanded': 'false' });
      beacon.addEventListener('click', () => {
        beacon.setAttribute('aria-expanded', 'true');
        root.append(box);
        this.#follow(el, box, step, beacon);
        box.focus({ preventScroll: true });
      });
      root.append(beacon);
      this.#parts.push(beacon);
      this.#follow(el, null, step, beacon);
    } else {
      root.append(box);
      if (el) this.#follow(el, box, step, null);
      box.focus({ preventScroll: true });
    }
    this.#box = box;
    this.#parts.push(box);
    const keys = (e: KeyboardEvent) => this.#host.guard(() => this.#key(e, centred))();
    document.addEventListener('keydown', keys, true);
    this.#cleanup.push(() => document.removeEventListener('keydown', keys, true));
    if (el && step.advance_on && step.advance_on !== 'button') {
      const type = step.advance_on === 'click' ? 'click' : 'change';
      const go = () => setTimeout(() => this.next(), 0);
      el.addEventListener(type, go, { once: true });
      this.#cleanup.push(() => el.removeEventListener(type, go));
    }
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

  #overlay(step: Step, el: Element | null): void {
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
    if (el && !step.interactive) {
      block = h('div', { class: 'blk' });
      root.append(block);
      this.#parts.push(block);
    }
    const draw = () => {
      const view = { width: window.innerWidth, height: window.innerHeight };
      svg.setAttribute('viewBox', `0 0 ${view.width} ${view.height}`);
      const r = el ? rectOf(el) : null;
      path.setAttribute('d', cutoutPath(view, r));
      if (block && r) Object.assign(block.style, { left: `${r.x - 6}px`, top: `${r.y - 6}px`, width: `${r.width + 12}px`, height: `${r.height + 12}px` });
    };
    draw();
    this.#drawers.push(draw);
  }

  #drawers: (() => void)[] = [];

  /** Keeps the box (and beacon) beside the element through scroll, resize and layout changes. */
  #follow(el: Element, box: HTMLElement | null, step: Step, beacon: HTMLElement | null): void {
    const r0 = rectOf(el);
    if (r0.top < 0 || r0.bottom > window.innerHeight || r0.left < 0 || r0.right > window.innerWidth) {
      el.scrollIntoView({ block: 'center', inline: 'nearest', behavior: reducedMotion() ? 'auto' : 'smooth' });
    }
    let arrow: HTMLElement | null = null;
    if (box) { arrow = h('div', { class: 'arr' }); box.append(arrow); }
    let last = '';
    let frame = 0;
    const place = () => {
      const r: Rect = rectOf(el);
      const key = `${r.x},${r.y},${r.width},${r.height},${innerWidth},${innerHeight},${box?.offsetWidth},${box?.offsetHeight}`;
      if (key !== last) {
        last = key;
        for (const d of this.#drawers) d();
        if (beacon) Object.assign(beacon.style, { left: `${r.x + r.width - 9}px`, top: `${r.y - 9}px` });
        if (box && arrow && box.isConnected) {
          const p = computePosition(r, { width: box.offsetWidth, height: box.offsetHeight }, { width: innerWidth, height: innerHeight }, step.placement);
          Object.assign(box.style, { left: `${p.x}px`, top: `${p.y}px` });
          const vertical = p.side === 'top' || p.side === 'bottom';
          Object.assign(arrow.style, {
            left: vertical ? `${p.arrow - 6}px` : p.side === 'left' ? 'auto' : '-6px',
            right: p.side === 'left' ? '-6px' : 'auto',
            top: vertical ? (p.side === 'top' ? 'auto' : '-6px') : `${p.arrow - 6}px`,
            bottom: p.side === 'top' ? '-6px' : 'auto',
          });
        }
      }
      frame = requestAnimationFrame(place);
    };
    place();
    this.#cleanup.push(() => cancelAnimationFrame(frame));
  }

  #clear(): void {
    for (const c of this.#cleanup.splice(0)) c();
    for (const p of this.#parts.splice(0)) p.remove();
    this.#drawers = [];
    this.#box = null;
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
