import { beforeEach, describe, expect, it } from 'vitest';
import { resolve } from '../src/dom/target';

beforeEach(() => {
  document.body.innerHTML = `
    <nav><button class="b">Home</button><button class="b" data-testid="save">Save</button></nav>
    <form><input name="email" placeholder="Email"><button class="b">Save draft</button></form>
    <div id="host"></div>`;
  const sr = document.getElementById('host')!.attachShadow({ mode: 'open' });
  sr.innerHTML = '<button id="inner">Inside</button>';
});

describe('resolve', () => {
  it('finds by the first selector', () => {
    expect(resolve({ selectors: ['[data-testid="save"]'] })?.textContent).toBe('Save');
  });
  it('falls back to later selectors when earlier ones drifted', () => {
    expect(resolve({ selectors: ['#renamed', 'input[name="email"]'] })?.getAttribute('placeholder')).toBe('Email');
  });
  it('lets the text pick among several matches', () => {
    expect(resolve({ selectors: ['.b'], text: 'Save draft' })?.textContent).toBe('Save draft');
  });
  it('finds by text alone when every selector is gone', () => {
    expect(resolve({ selectors: ['#gone'], text: 'Home' })?.textContent).toBe('Home');
  });
  it('reaches into open shadow roots', () => {
    expect(resolve({ selectors: ['#inner'] })?.textContent).toBe('Inside');
  });
  it('ignores broken selectors and returns null when nothing matches', () => {
    expect(resolve({ selectors: ['div[broken==', '#nope'] })).toBeNull();
  });
});
