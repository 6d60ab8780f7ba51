// What the renderers need from the running SDK instance.

import type { TourRun } from './tour';

export interface KV {
  get(k: string): string | null;
  set(k: string, v: string): void;
  remove(k: string): void;
}

export interface Host {
  readonly hostEl: HTMLElement;
  readonly session: KV;
  /** The `.r` container inside the shadow root (created on first use). */
  ui(): HTMLElement;
  theme(el: HTMLElement, themeId: string | undefined): void;
  track(name: string, properties?: Record<string, unknown>): void;
  emit(event: string, detail: Record<string, unknown>): void;
  warn(message: string): void;
  guard<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void;
  flush(): void;
  navigate(url: string): void;
  tourEnded(run: TourRun, how: 'completed' | 'dismissed'): void;
  startTour(id: string, trigger: string): boolean;
  openChecklist(id: string): void;
}
