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
const cached = process.env.NODE_ENV !== 'development';

/**
 * Rewrites `include('x')` (relative to the including file) to `include('/x')` (relative to views/): ejs resolves a
 * relative include with an `existsSync` on every render, even with `cache` on, while a root-relative one is a plain
 * path join (the stat was most of the cost of an include).
 */
function rootRelativeIncludes(source: string, file: string): string {
  return source.replace(/\binclude\((\s*)(['"])([^'"]+)\2/g, (_all, space: string, quote: string, target: string) =>
    target.startsWith('/') ? _all : `include(${space}${quote}/${path.relative(viewsDir, path.resolve(path.dirname(file), target)).split(path.sep).join('/')}${quote}`);
}

/** Template sources with their includes made root-relative, by file name (read once when cached). */
const sources = new Map<string, string>();
function sourceOf(file: string): string {
  let source = sources.get(file);
  if (source === undefined) {
    source = rootRelativeIncludes(readFileSync(file, 'utf8'), file);
    if (cached) sources.set(file, source);
  }
  return source;
}

const compileOptions = {
  root: viewsDir,
  // `cache` makes ejs keep the templates pulled in by `include()` too (keyed by file name): without it every
  // include is read from disk and compiled again on every render. Development re-reads everything.
  cache: cached,
  includer: (_original: string, file: string) => ({ template: sourceOf(file) }),
};

function template(name: string): ejs.TemplateFunction {
  let fn = cache.get(name);
  if (!fn) {
    const file = path.join(viewsDir, `${name}.ejs`);
    fn = ejs.compile(sourceOf(file), { ...compileOptions, filename: file });
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
