import path from 'node:path';
import { catalogue, readCatalogueFiles, DEFAULT_LANGUAGE } from '../../src/i18n/catalogue.js';
import { chooseLanguage, parseAcceptLanguage } from '../../src/i18n/choose-language.js';
import { projectRoot } from '../../src/http/views.js';

/** Every key path of a nested catalogue object (`error.generic`, …). */
function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

const files = readCatalogueFiles(path.join(projectRoot, 'src', 'i18n', 'locales'));

describe('catalogues', () => {
  const english = files[DEFAULT_LANGUAGE];

  it('has English', () => {
    expect(Object.keys(english).length).toBeGreaterThan(0);
  });

  for (const language of Object.keys(files).filter((l) => l !== DEFAULT_LANGUAGE)) {
    it(`${language} has every namespace and key English has, and no others`, () => {
      for (const [namespace, entries] of Object.entries(english)) {
        const theirs = files[language][namespace];
        expect({ language, namespace, missing: theirs ? keys(entries).filter((k) => !keys(theirs).includes(k)) : ['(namespace)'] })
          .toEqual({ language, namespace, missing: [] });
        expect({ language, namespace, extra: keys(theirs).filter((k) => !keys(entries).includes(k)) }).toEqual({ language, namespace, extra: [] });
      }
    });
  }

  it('translates with English as the fallback for unknown languages', () => {
    expect(catalogue().translator('en')('error.code')).toBe('Error code:');
    expect(catalogue().translator('xx')('error.code')).toBe('Error code:');
  });
});

describe('chooseLanguage', () => {
  const supported = ['en', 'fr', 'de', 'es'];

  it('prefers ui_locales, then the account, then Accept-Language, then the app default', () => {
    expect(chooseLanguage(supported, { uiLocales: 'it fr-CA', accountLocale: 'de', acceptLanguage: 'es', appDefault: 'en' })).toBe('fr');
    expect(chooseLanguage(supported, { uiLocales: 'it', accountLocale: 'de', acceptLanguage: 'es' })).toBe('de');
    expect(chooseLanguage(supported, { acceptLanguage: 'it, es;q=0.8, fr;q=0.9' })).toBe('fr');
    expect(chooseLanguage(supported, { acceptLanguage: 'it', appDefault: 'de' })).toBe('de');
    expect(chooseLanguage(supported, {})).toBe('en');
  });

  it('puts a switcher choice made during the sign-in ahead of ui_locales, an earlier one after them', () => {
    expect(chooseLanguage(supported, { chosenNow: 'es', uiLocales: 'fr', accountLocale: 'de' })).toBe('es');
    expect(chooseLanguage(supported, { chosen: 'es', uiLocales: 'fr', accountLocale: 'de' })).toBe('fr');
    expect(chooseLanguage(supported, { chosen: 'es', accountLocale: 'de', acceptLanguage: 'fr' })).toBe('es');
    expect(chooseLanguage(supported, { chosenNow: 'es', uiLocales: 'fr', appDefault: 'de', forceAppDefault: true })).toBe('de');
  });

  it('keeps the app default when the app pins its language', () => {
    expect(chooseLanguage(supported, { uiLocales: 'fr', appDefault: 'de', forceAppDefault: true })).toBe('de');
  });

  it('reads Accept-Language by q-value and ignores * and q=0', () => {
    expect(parseAcceptLanguage('fr-CH, fr;q=0.9, en;q=0.8, de;q=0, *;q=0.5')).toEqual(['fr-CH', 'fr', 'en']);
    expect(parseAcceptLanguage(undefined)).toEqual([]);
    expect(parseAcceptLanguage('x;q=abc')).toEqual([]);
  });
});
