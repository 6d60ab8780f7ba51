import { beforeEach, describe, expect, it } from 'vitest';
import { fingerprint } from '../src/editor/fingerprint';
import { resolve } from '../src/dom/target';

beforeEach(() => {
  document.body.innerHTML = `
    <div id="app"><form><input name="email" placeholder="Email" aria-label="Email address">
    <button data-testid="save" class="btn x1">Save</button><button class="btn">Cancel</button></form>
    <div id="row-123456"><span>Generated</span></div></div>`;
});

describe('fingerprint', () => {
  it('records stable candidates most stable first, each finding the element, and its text', () => {
    const el = document.querySelector('[data-testid="save"]')!;
    const t = fingerprint(el);
    expect(t.selectors[0]).toBe('[data-testid="save"]');
    expect(t.text).toBe('Save');
    for (const s of t.selectors) expect(document.querySelector(s)).toBe(el);
  });
  it('uses name, ARIA label and placeholder for inputs', () => {
    const t = fingerprint(document.querySelector('input')!);
    expect(t.selectors).toEqual(expect.arrayContaining(['input[name="email"]', 'input[aria-label="Email address"]', 'input[placeholder="Email"]']));
  });
  it('skips generated ids and falls back to a structural path', () => {
    const t = fingerprint(document.querySelector('#row-123456 span')!);
    expect(t.selectors.some((s) => s.includes('123456'))).toBe(false);
    expect(t.selectors.at(-1)).toMatch(/^#app > div > span$/);
  });
  it('round-trips through resolve after the markup drifts', () => {
    const t = fingerprint(document.querySelector('[data-testid="save"]')!);
    document.querySelector('[data-testid="save"]')!.removeAttribute('data-testid');
    expect(resolve(t)?.textContent).toBe('Save');
  });
});
