import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';

/** Project root: views/ and assets are resolved from here both in `src/` (tsx) and in `dist/src/` (compiled). */
export const projectRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!readDirHas(dir, 'views')) dir = path.dirname(dir);
  return dir;
})();

function readDirHas(dir: string, name: string): boolean {
  try {
    readFileSync(path.join(dir, name, 'layout.ejs'));
    return true;
  } catch {
    return dir === path.dirname(dir);
  }
}

const viewsDir = path.join(projectRoot, 'views');
const cache = new Map<string, ejs.TemplateFunction>();

function template(name: string): ejs.TemplateFunction {
  let fn = cache.get(name);
  if (!fn) {
    const file = path.join(viewsDir, `${name}.ejs`);
    const cached = process.env.NODE_ENV !== 'development';
    // `cache` makes ejs keep the templates pulled in by `include()` too (keyed by file name): without it every
    // include is read from disk and compiled again on every render. Development re-reads everything.
    fn = ejs.compile(readFileSync(file, 'utf8'), { filename: file, views: [viewsDir], cache: cached });
    if (cached) cache.set(name, fn);
  }
  return fn;
}

/** Renders `views/{name}.ejs` (escaped by default) inside `views/layout.ejs` (or another layout, e.g. the console's). */
export function renderView(name: string, locals: Record<string, unknown>, layout = 'layout'): string {
  const body = template(name)(locals);
  return template(layout)({ ...locals, body });
}

/** Renders a template without the layout (messages). */
export function renderTemplate(name: string, locals: Record<string, unknown>): string {
  return template(name)(locals);
}
