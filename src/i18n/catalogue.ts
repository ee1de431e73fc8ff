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
}

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
  const translators = new Map<string, TFunction>();
  return {
    languages,
    translator(language) {
      const lng = languages.includes(language) ? language : DEFAULT_LANGUAGE;
      let t = translators.get(lng);
      if (!t) translators.set(lng, (t = instance.getFixedT(lng)));
      return t;
    },
  };
}
