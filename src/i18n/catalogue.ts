import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';
import { projectRoot } from '../http/views.js';

/**
 * The page and message catalogues: `src/i18n/locales/{language}/{namespace}.json`, one namespace per area of the
 * product (`common`, `sign-in`, `account`, `console`, …). Adding a language is dropping a folder of JSON files;
 * a key missing from a language falls back to English (and a test fails while any catalogue misses a key English has).
 * Loaded once, synchronously, at first use: catalogues are read-only data shipped with the code, like the views.
 */
export const DEFAULT_LANGUAGE = 'en';
const LOCALES_DIR = path.join(projectRoot, 'src', 'i18n', 'locales');

export interface Catalogue {
  /** Languages with a folder of catalogues, the default first. */
  readonly languages: readonly string[];
  /** A translate function bound to one language (keys as `namespace:key`, default namespace `common`). */
  translator(language: string): TFunction;
  /**
   * For a catalogue entry that holds markup (`to continue to <strong>{{client}}</strong>`), for `<%- th(...) %>`:
   * the entry is trusted (shipped with the code) and every interpolated value is HTML-escaped.
   */
  htmlTranslator(language: string): HtmlTranslator;
}

export type HtmlTranslator = (key: string, values?: Record<string, unknown>) => string;

let loaded: Catalogue | undefined;

export function catalogue(): Catalogue {
  loaded ??= loadCatalogue(LOCALES_DIR);
  return loaded;
}

/** Reads every `{language}/{namespace}.json` under `dir`. */
export function readCatalogueFiles(dir: string): Record<string, Record<string, Record<string, unknown>>> {
  const resources: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const language of readdirSync(dir).sort()) {
    const folder = path.join(dir, language);
    resources[language] = {};
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.json')).sort()) {
      resources[language][file.slice(0, -'.json'.length)] = JSON.parse(readFileSync(path.join(folder, file), 'utf8'));
    }
  }
  return resources;
}

function loadCatalogue(dir: string): Catalogue {
  const resources = readCatalogueFiles(dir);
  const languages = [DEFAULT_LANGUAGE, ...Object.keys(resources).filter((l) => l !== DEFAULT_LANGUAGE)];
  const namespaces = [...new Set(Object.values(resources).flatMap((r) => Object.keys(r)))];
  const instance: i18n = i18next.createInstance();
  void instance.init({
    resources,
    initAsync: false, // resources are in memory: init completes synchronously
    lng: DEFAULT_LANGUAGE,
    fallbackLng: DEFAULT_LANGUAGE,
    supportedLngs: languages,
    ns: namespaces,
    defaultNS: 'common',
    nsSeparator: ':',
    keySeparator: '.',
    // ejs escapes what views print with <%= %>; escaping here too would print &amp;
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  // Escaping is the clone's setting, not a per-call option: i18next rebuilds its interpolation patterns twice on
  // every call that passes `interpolation` options.
  const escaping = instance.cloneInstance({ interpolation: { escapeValue: true } });
  const translators = new Map<string, TFunction>();
  const htmlTranslators = new Map<string, HtmlTranslator>();
  const supported = (language: string) => (languages.includes(language) ? language : DEFAULT_LANGUAGE);
  return {
    languages,
    translator(language) {
      const lng = supported(language);
      let t = translators.get(lng);
      if (!t) translators.set(lng, (t = rememberingPlainKeys(instance, lng)));
      return t;
    },
    htmlTranslator(language) {
      const lng = supported(language);
      let th = htmlTranslators.get(lng);
      if (!th) {
        const t = escaping.getFixedT(lng);
        htmlTranslators.set(lng, (th = (key, values) => (values ? t(key, { ...values }) : t(key)) as string));
      }
      return th;
    },
  };
}

/**
 * The language's translate function, remembering the text of keys asked for without values: a page asks for dozens
 * of them per render and i18next resolves each through its fallbacks and interpolation every time. Only keys the
 * catalogue has are remembered, so the map never holds more than the catalogue (any other string passes through
 * to i18next as before).
 */
function rememberingPlainKeys(instance: i18n, lng: string): TFunction {
  const t = instance.getFixedT(lng);
  const plain = new Map<string, string>();
  const remembering = (...args: unknown[]) => {
    const key = args[0];
    if (args.length !== 1 || typeof key !== 'string') return (t as unknown as (...a: unknown[]) => unknown)(...args);
    let text = plain.get(key);
    if (text === undefined) {
      text = t(key) as string;
      if (instance.exists(key, { lng })) plain.set(key, text);
    }
    return text;
  };
  return remembering as unknown as TFunction;
}
