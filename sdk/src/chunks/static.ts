// ESM build: the renderers are bundled, no chunk to fetch.
import * as w from '../dom/widgets';

export function widgets(_api: string): Promise<typeof w> {
  return Promise.resolve(w);
}
