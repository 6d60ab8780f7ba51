// A small rich-text editor for step and announcement bodies, limited to what
// the server keeps (p, b, i, em, strong, a, ul, ol, li, br, code, img): a
// contenteditable region with a toolbar, its HTML cleaned to that allowlist on
// every change, and an "HTML" view for exact edits. The server sanitises again.
import { useRef, useState } from 'preact/hooks';
import type { FieldError } from './fields';

const TAGS = new Set(['P', 'B', 'I', 'EM', 'STRONG', 'A', 'UL', 'OL', 'LI', 'BR', 'CODE', 'IMG']);
const SAFE_URL = /^(https?:|mailto:|\/|#|\.)/i;

/** The HTML rebuilt from allowed elements and attributes only; anything else keeps its text. */
export function clean(html: string): string {
  const src = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html').body;
  const out = document.createElement('div');
  const copy = (from: Node, to: Node) => {
    for (const n of Array.from(from.childNodes)) {
      if (n.nodeType === Node.TEXT_NODE) { to.appendChild(document.createTextNode(n.textContent ?? '')); continue; }
      if (!(n instanceof Element)) continue;
      const tag = n.tagName === 'DIV' ? 'P' : n.tagName;
      if (['SCRIPT', 'STYLE', 'TEMPLATE', 'IFRAME', 'OBJECT'].includes(tag)) continue;
      if (!TAGS.has(tag)) { copy(n, to); continue; }
      const el = document.createElement(tag.toLowerCase());
      if (tag === 'A') {
        const href = n.getAttribute('href') ?? '';
        if (SAFE_URL.test(href.trim())) el.setAttribute('href', href.trim());
      }
      if (tag === 'IMG') {
        const s = n.getAttribute('src') ?? '';
        if (!/^(https:|\/)/i.test(s.trim())) continue;
        el.setAttribute('src', s.trim());
        el.setAttribute('alt', n.getAttribute('alt') ?? '');
      }
      copy(n, el);
      to.appendChild(el);
    }
  };
  copy(src, out);
  return out.innerHTML.replace(/<p><br><\/p>$/, '');
}

export function RichText({ id, label, value, onChange, errors, ro }: { id: string; label: string; value: string; onChange: (html: string) => void; errors: FieldError[]; ro: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const [html, setHtml] = useState(false);
  // What the region was last given, and the value it stands for: the region is
  // rewritten only when the value changed from outside (never while typing, which
  // would move the caret). Preact leaves an unchanged `__html` alone.
  const shown = useRef(clean(value));
  const last = useRef<string | null>(value);
  if (value !== last.current) {
    shown.current = clean(value);
    last.current = value;
  }
  const emit = () => {
    if (!box.current) return;
    const v = clean(box.current.innerHTML);
    last.current = v;
    onChange(v);
  };
  const cmd = (name: string, arg?: string) => {
    box.current?.focus();
    document.execCommand(name, false, arg);
    emit();
  };
  const link = () => {
    const url = prompt('Link address (https://…, /path or mailto:)');
    if (url && SAFE_URL.test(url.trim())) cmd('createLink', url.trim());
  };
  const code = () => {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !box.current?.contains(sel.anchorNode)) return;
    const text = sel.toString();
    cmd('insertHTML', `<code>${text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)}</code>`);
  };
  return (
    <div class={errors.length ? 'field invalid' : 'field'}>
      <span class="label" id={`${id}-label`}>{label}</span>
      {!ro && (
        <div class="toolbar" role="toolbar" aria-label={`${label}: formatting`}>
          <button type="button" disabled={html} onClick={() => cmd('bold')}><b>B</b><span class="sr"> Bold</span></button>
          <button type="button" disabled={html} onClick={() => cmd('italic')}><i>I</i><span class="sr"> Italic</span></button>
          <button type="button" disabled={html} onClick={link}>Link</button>
          <button type="button" disabled={html} onClick={() => cmd('insertUnorderedList')}>• List</button>
          <button type="button" disabled={html} onClick={() => cmd('insertOrderedList')}>1. List</button>
          <button type="button" disabled={html} onClick={code}>Code</button>
          <button type="button" aria-pressed={html ? 'true' : 'false'} onClick={() => { shown.current = clean(value); setHtml(!html); }}>HTML</button>
        </div>
      )}
      {html ? (
        <textarea id={id} class="code" aria-labelledby={`${id}-label`} value={value} readOnly={ro}
          onInput={(e) => { const v = (e.target as HTMLTextAreaElement).value; last.current = null; onChange(v); }} />
      ) : (
        <div id={id} ref={box} class="rich" role="textbox" aria-multiline="true" aria-labelledby={`${id}-label`}
          aria-readonly={ro ? 'true' : undefined} contentEditable={!ro} onInput={emit} onBlur={emit}
          dangerouslySetInnerHTML={{ __html: shown.current }} />
      )}
      <small>Allowed: paragraphs, bold, italic, links, lists, code, images (https).</small>
      {errors.map((e) => <p class="error" id={`${id}-error`}>{e.path}: {e.message}</p>)}
    </div>
  );
}
