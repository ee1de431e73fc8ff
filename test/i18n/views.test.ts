/**
 * No literal text in a view: every word a person reads comes from the catalogue (`t('namespace:key')`, or
 * `th(...)` for an entry holding markup), so every page and message exists in every language. The check reads the
 * templates as text: outside EJS tags only markup and punctuation may remain, user-visible attributes (alt, title,
 * placeholder, aria-label) hold no words, and no EJS output tag prints a prose string literal. And every catalogue
 * key the views and the code name exists in English (the catalogue test then checks the other languages).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/http/views.js';
import { readCatalogueFiles, DEFAULT_LANGUAGE } from '../../src/i18n/catalogue.js';
import { FRIENDLY_ERRORS } from '../../src/http/error-page.js';

const VIEWS = path.join(projectRoot, 'views');

/**
 * Literal strings in output tags that are not language: attribute tokens. Keep this list short; anything a person
 * reads belongs in the catalogue.
 */
const ALLOWED_LITERALS: ReadonlyMap<string, readonly string[]> = new Map([
  ['login.ejs', ['username webauthn']],
]);

function templates(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'assets' ? [] : templates(full);
    return name.endsWith('.ejs') ? [full] : [];
  });
}

const TAG = /<%([=\-_#]?)([\s\S]*?)[-_]?%>/g;
const STRING = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g;
/** A string is prose when it has a letter and either a space or a capital: `'link'` is a class, `'Sign in'` is text. */
const PROSE = /^(?=.*\p{L})(?=.*(\s|^\p{Lu})).*$/u;
const KEY = /^[a-z][a-z0-9-]*:[a-z0-9_]+(\.[a-z0-9_]+)*$/;

/** Every problem of one template, as readable strings (empty when it is clean). */
export function lintTemplate(source: string, file: string): string[] {
  const problems: string[] = [];
  const allowed = ALLOWED_LITERALS.get(path.basename(file)) ?? [];
  const plainText = /\.(text|subject|sms)\.ejs$/.test(file);
  for (const [, kind, code] of source.matchAll(TAG)) {
    if (kind !== '=' && kind !== '-') continue;
    // The first argument of t()/th()/include() is a key or a file name, not text.
    const rest = code.replace(/\b(t|th|include)\(\s*(['"`])[^'"`]*\2/g, '$1(');
    for (const match of rest.matchAll(STRING)) {
      const literal = match[1] ?? match[2] ?? match[3] ?? '';
      if (KEY.test(literal) || allowed.includes(literal)) continue;
      if (PROSE.test(literal)) problems.push(`string literal printed: '${literal}'`);
    }
  }
  let outside = source.replace(TAG, ' ');
  if (!plainText) {
    outside = outside.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ');
    for (const [, name, value] of outside.matchAll(/\s(alt|title|placeholder|aria-label|label)\s*=\s*"([^"]*)"/gi)) {
      if (/\p{L}/u.test(value)) problems.push(`literal ${name}="${value}"`);
    }
    outside = outside.replace(/<!--[\s\S]*?-->/g, ' ').replace(/<[^>]*>/g, ' ');
  }
  outside = outside.replace(/&[a-z]+;|&#\d+;/gi, ' ');
  for (const word of outside.match(/\S*\p{L}\S*/gu) ?? []) problems.push(`literal text: ${word}`);
  return problems;
}

/** Every key path of a nested catalogue object, with plural suffixes folded (`a_one`, `a_other` → `a`). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix, prefix.replace(/_(zero|one|two|few|many|other)$/, '')];
  return Object.entries(value).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('views hold no literal text', () => {
  const files = templates(VIEWS);

  it('finds the views and the message templates', () => {
    expect(files.some((f) => f.endsWith(`${path.sep}login.ejs`))).toBe(true);
    expect(files.some((f) => f.includes(`messages${path.sep}`))).toBe(true);
  });

  for (const file of files) {
    it(path.relative(VIEWS, file), () => {
      expect(lintTemplate(readFileSync(file, 'utf8'), file)).toEqual([]);
    });
  }

  it('catches text outside t(), words in attributes and printed prose literals', () => {
    expect(lintTemplate('<p>Hello <%= name %></p>', 'x.ejs')).toEqual(['literal text: Hello']);
    expect(lintTemplate('<img alt="A photo" src="<%= src %>">', 'x.ejs')).toEqual(['literal alt="A photo"']);
    expect(lintTemplate("<b><%= ok ? 'Sent' : t('a:b') %></b>", 'x.ejs')).toEqual(["string literal printed: 'Sent'"]);
    expect(lintTemplate("<%- include('_x', { title: 'Your code' }) %>", 'x.ejs')).toEqual(["string literal printed: 'Your code'"]);
    expect(lintTemplate('Your code is <%- code %>', 'x.text.ejs')).toEqual(['literal text: Your', 'literal text: code', 'literal text: is']);
    expect(lintTemplate("<p class=\"<%= a ? 'link' : 'primary' %>\"><%= t('a:b', { n: 1 }) %> · <%- th('a:c') %></p>", 'x.ejs')).toEqual([]);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === 'locales' ? [] : sourceFiles(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

/** Strings shaped like `namespace:key` that are something else: the account API's OAuth scopes. */
const NOT_KEYS = new Set(['account:read', 'account:write']);

describe('catalogue keys named by views and code exist in English', () => {
  const english = readCatalogueFiles(path.join(projectRoot, 'src', 'i18n', 'locales'))[DEFAULT_LANGUAGE];
  const known = new Set(Object.entries(english).flatMap(([ns, entries]) => keyPaths(entries).map((k) => `${ns}:${k}`)));
  const namespaces = Object.keys(english);
  const sources = [
    ...templates(VIEWS),
    ...['src', 'interactions'].flatMap((dir) => sourceFiles(path.join(projectRoot, dir))),
  ];

  it('has no unknown key', () => {
    const unknown: string[] = [];
    for (const file of sources) {
      for (const match of readFileSync(file, 'utf8').matchAll(STRING)) {
        const literal = match[1] ?? match[2] ?? '';
        if (!KEY.test(literal) || !namespaces.includes(literal.split(':')[0]) || NOT_KEYS.has(literal)) continue;
        // A template literal key (`sign-in:error.wait_${noun}`) is checked by the pages that use it.
        if (!known.has(literal)) unknown.push(`${path.relative(projectRoot, file)}: ${literal}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('has a friendly text for every error code the error pages name', () => {
    expect([...FRIENDLY_ERRORS].filter((code) => !known.has(`common:error.codes.${code}`))).toEqual([]);
  });
});
