// What the element picker records: several candidate selectors, most stable
// first (id, test ids and other data attributes, name, ARIA label, placeholder,
// role, a structural path), each checked to find the element, plus its text.
// The SDK scores them at run time (dom/target.ts), so a later DOM change that
// breaks one selector does not break the tour.

import type { Target } from '../types';

const MAX = 8;

function cssString(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function escapeId(id: string): string {
  return typeof CSS !== 'undefined' && CSS.escape ? CSS.escape(id) : id.replace(/[^\w-]/g, (c) => `\\${c}`);
}

/** Ids with long digit runs or hashes are usually generated per render. */
function stableId(id: string): boolean {
  return !!id && !/\d{4,}|[a-f0-9]{8,}|^:r|^ember|^react/i.test(id) && id.length <= 64;
}

function path(el: Element, root: ParentNode): string {
  const parts: string[] = [];
  let e: Element | null = el;
  while (e && e !== root && e.parentElement && e.tagName !== 'BODY' && e.tagName !== 'HTML') {
    if (e.id && stableId(e.id)) { parts.unshift(`#${escapeId(e.id)}`); break; }
    const tag = e.tagName.toLowerCase();
    const same = Array.from(e.parentElement.children).filter((c) => c.tagName === e!.tagName);
    parts.unshift(same.length > 1 ? `${tag}:nth-of-type(${same.indexOf(e) + 1})` : tag);
    e = e.parentElement;
  }
  if (e && (e.tagName === 'BODY') && !parts[0]?.startsWith('#')) parts.unshift('body');
  return parts.join(' > ');
}

export function fingerprint(el: Element): Target {
  const root = el.getRootNode() as Document | ShadowRoot;
  const tag = el.tagName.toLowerCase();
  const candidates: string[] = [];
  if (el.id && stableId(el.id)) candidates.push(`#${escapeId(el.id)}`);
  for (const a of ['data-testid', 'data-test', 'data-cy', 'data-qa']) {
    const v = el.getAttribute(a);
    if (v) candidates.push(`[${a}=${cssString(v)}]`);
  }
  for (const a of Array.from(el.attributes)) {
    if (a.name.startsWith('data-') && !/^data-(testid|test|cy|qa)$/.test(a.name) && a.value && a.value.length < 60) {
      candidates.push(`${tag}[${a.name}=${cssString(a.value)}]`);
    }
  }
  for (const a of ['name', 'aria-label', 'placeholder', 'title', 'href']) {
    const v = el.getAttribute(a);
    if (v && v.length < 100 && !(a === 'href' && /^javascript:/i.test(v))) candidates.push(`${tag}[${a}=${cssString(v)}]`);
  }
  const role = el.getAttribute('role');
  if (role) candidates.push(`${tag}[role=${cssString(role)}]`);
  candidates.push(path(el, root));
  // Keep selectors that are valid and find this element (first match, as resolve scores).
  const selectors: string[] = [];
  for (const s of candidates) {
    if (selectors.length >= MAX || selectors.includes(s) || s.length > 500) continue;
    try {
      const found = root.querySelectorAll(s);
      if (Array.from(found).includes(el)) selectors.push(s);
    } catch { /* not valid here */ }
  }
  const text = (el.textContent ?? '').replace(/\s+/g, ' ').trim();
  const t: Target = { selectors };
  if (text && text.length <= 100 && el.children.length <= 3) t.text = text;
  return t;
}
