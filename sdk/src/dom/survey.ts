// Survey answers: NPS (0–10), stars (1–5), a numeric scale, single or multiple
// choice, free text. Each calls `answer` once with the event's property.

import type { Survey } from '../types';
import { h } from './ui';

export type Answer = { score: number } | { choices: string[] } | { text: string };

export function surveyControl(s: Survey, answer: (a: Answer) => void): HTMLElement {
  const q = h('div', { class: 'q', role: 'group', 'aria-label': s.question });
  const wrap = h('div', {}, h('div', { class: 't' }, s.question), q);
  let sent = false;
  const send = (a: Answer) => { if (!sent) { sent = true; answer(a); } };
  const scale = (from: number, to: number, label: (n: number) => string) => {
    for (let n = from; n <= to; n++) q.append(h('button', { 'aria-label': label(n), onclick: () => send({ score: n }) }, s.type === 'stars' ? '★' : String(n)));
  };
  switch (s.type) {
    case 'nps': scale(0, 10, (n) => `${n} out of 10`); break;
    case 'stars': scale(1, 5, (n) => `${n} star${n > 1 ? 's' : ''}`); break;
    case 'scale': {
      const min = s.min ?? 1;
      const max = Math.min(s.max ?? 5, min + 20);
      scale(min, max, (n) => `${n} of ${max}`);
      break;
    }
    case 'single_choice':
    case 'multiple_choice': {
      const multi = s.type === 'multiple_choice';
      const name = `sl-q-${Math.random().toString(36).slice(2)}`;
      const inputs = (s.choices ?? []).slice(0, 20).map((c) => {
        const i = h('input', { type: multi ? 'checkbox' : 'radio', name, value: c }) as HTMLInputElement;
        q.append(h('label', {}, i, c));
        return i;
      });
      wrap.append(h('div', { class: 'f' }, h('button', {
        class: 'p',
        onclick: () => {
          const picked = inputs.filter((i) => i.checked).map((i) => i.value);
          if (picked.length) send({ choices: picked });
        },
      }, 'Submit')));
      break;
    }
    default: {
      const t = h('textarea', { 'aria-label': s.question, maxlength: 2000 }) as HTMLTextAreaElement;
      q.append(t);
      wrap.append(h('div', { class: 'f' }, h('button', { class: 'p', onclick: () => { if (t.value.trim()) send({ text: t.value.trim().slice(0, 2000) }); } }, 'Submit')));
    }
  }
  return wrap;
}
