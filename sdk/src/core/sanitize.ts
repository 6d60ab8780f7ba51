// Rich text, sanitised again in the browser (the server already did on save):
// the same allowlist — p, b, i, em, strong, a[href http/https/mailto], ul, ol,
// li, br, code, img[src https]. Parsed inert with DOMParser, then rebuilt node
// by node, so nothing of the parsed tree (attributes, handlers) is ever adopted.

const ALLOWED = new Set(['P', 'B', 'I', 'EM', 'STRONG', 'A', 'UL', 'OL', 'LI', 'BR', 'CODE', 'IMG']);
/** Dropped with everything inside them. */
const DROP = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'IFRAME', 'OBJECT', 'EMBED', 'NOSCRIPT', 'SVG', 'MATH', 'TEXTAREA', 'SELECT', 'TITLE']);
export const MAX_BODY = 64 * 1024;

function safeHref(v: string): boolean {
  return /^(https?:|mailto:)/i.test(v.trim());
}

function copy(from: Node, to: Node, doc: Document): void {
  for (const child of Array.from(from.childNodes)) {
    if (child.nodeType === 3) {
      to.appendChild(doc.createTextNode(child.textContent ?? ''));
      continue;
    }
    if (child.nodeType !== 1) continue;
    const el = child as Element;
    const tag = el.tagName.toUpperCase();
    if (DROP.has(tag)) continue;
    if (!ALLOWED.has(tag)) {
      copy(el, to, doc); // unwrap: keep the text
      continue;
    }
    const out = doc.createElement(tag.toLowerCase());
    if (tag === 'A') {
      const href = el.getAttribute('href');
      if (href && safeHref(href)) {
        out.setAttribute('href', href.trim());
        out.setAttribute('target', '_blank');
        out.setAttribute('rel', 'noopener noreferrer nofollow');
      }
    } else if (tag === 'IMG') {
      const src = el.getAttribute('src');
      if (!src || !/^https:\/\//i.test(src.trim())) continue;
      out.setAttribute('src', src.trim());
      out.setAttribute('alt', el.getAttribute('alt') ?? '');
    }
    copy(el, out, doc);
    to.appendChild(out);
  }
}

/** A fragment holding the allowed part of `html`. */
export function sanitize(html: string, doc: Document = document): DocumentFragment {
  const frag = doc.createDocumentFragment();
  if (!html) return frag;
  const parsed = new DOMParser().parseFromString(html.slice(0, MAX_BODY), 'text/html');
  copy(parsed.body, frag, doc);
  return frag;
}
