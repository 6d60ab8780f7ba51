// ESM build: the widgets are bundled (no chunk to fetch); the editor is still
// loaded on demand, with a dynamic import the host's bundler splits out.
import * as w from '../dom/widgets';

export function widgets(_api: string): Promise<typeof w> {
  return Promise.resolve(w);
}

export function editor(_api: string): Promise<typeof import('../editor/editor')> {
  return import('../editor/editor');
}
