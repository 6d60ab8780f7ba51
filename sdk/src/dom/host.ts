// What the renderers need from the running SDK instance.

import type { Config, Delivered, InitOptions } from '../types';
import type { TourRun } from './tour';
import type * as Widgets from './widgets';

export interface KV {
  get(k: string): string | null;
  set(k: string, v: string): void;
  remove(k: string): void;
}

export interface Host {
  readonly hostEl: HTMLElement;
  readonly session: KV;
  readonly options: InitOptions | null;
  readonly localKV: KV;
  readonly cfg: Config | null;
  /** A tour is running. */
  readonly touring: boolean;
  readonly endedIds: Set<string>;
  end(id: string): void;
  exposeArm(item: Delivered<unknown>): void;
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
  /** The lazy widgets chunk (announcements, checklists, launchers, survey controls). */
  widgets(): Promise<typeof Widgets>;
}
