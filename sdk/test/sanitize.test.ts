import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sanitize } from '../src/core/sanitize';

function html(s: string): string {
  const div = document.createElement('div');
  div.append(sanitize(s));
  return div.innerHTML;
}

describe('sanitize', () => {
  it('keeps the allowed subset', () => {
    expect(html('<p>Hi <b>you</b> <em>x</em> <code>y</code></p><ul><li>a</li></ul>')).toBe('<p>Hi <b>you</b> <em>x</em> <code>y</code></p><ul><li>a</li></ul>');
  });
  it('keeps safe links and makes them open safely', () => {
    expect(html('<a href="https://e.com">e</a>')).toBe('<a href="https://e.com" target="_blank" rel="noopener noreferrer nofollow">e</a>');
  });
  it.each([
    ['<a href="javascript:alert(1)">x</a>', '<a>x</a>'],
    ['<img src="http://e.com/a.png">', ''],
    ['<img src="https://e.com/a.png" onerror="alert(1)">', '<img src="https://e.com/a.png" alt="">'],
    ['<script>alert(1)</script>ok', 'ok'],
    ['<div onclick="x()">text</div>', 'text'],
    ['<svg><script>alert(1)</script></svg>', ''],
    ['<style>*{}</style>t', 't'],
  ])('%s → %s', (input, out) => {
    expect(html(input)).toBe(out);
  });
  it('leaves no attribute outside the allowlist for the whole XSS corpus', () => {
    const corpus = readFileSync(join(process.cwd(), '..', 'testdata', 'xss-corpus.txt'), 'utf8')
      .split('\n').filter((l) => l.trim() && !l.startsWith('# '));
    expect(corpus.length).toBeGreaterThan(100);
    for (const line of corpus) {
      const div = document.createElement('div');
      div.append(sanitize(line));
      for (const el of Array.from(div.querySelectorAll('*'))) {
        expect(['p', 'b', 'i', 'em', 'strong', 'a', 'ul', 'ol', 'li', 'br', 'code', 'img']).toContain(el.tagName.toLowerCase());
        for (const a of Array.from(el.attributes)) {
          expect(['href', 'target', 'rel', 'src', 'alt']).toContain(a.name);
          if (a.name === 'href') expect(a.value).toMatch(/^(https?:|mailto:)/i);
          if (a.name === 'src') expect(a.value).toMatch(/^https:\/\//i);
        }
      }
    }
  });
});
