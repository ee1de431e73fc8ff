/**
 * Refused fields in the page's language: zod's own messages through zod's locale, our schemas' messages and
 * templated ones through the `validation` catalogue (keyed by their English text), and every message a schema or
 * service writes has its catalogue entry (so a new one cannot stay English unnoticed).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { catalogue } from '../../src/i18n/catalogue.js';
import { fieldMessage } from '../../src/i18n/field-messages.js';
import { validate } from '../../src/http/body.js';
import { InvalidRequestError, type FieldIssue } from '../../src/errors.js';
import { createPartnerSchema } from '../../src/partners/partner-schemas.js';
import { brandingContrastProblems } from '../../src/branding/branding-schema.js';
import { projectRoot } from '../../src/http/views.js';

function issuesOf(schema: z.ZodType, input: unknown): FieldIssue[] {
  try {
    validate(schema, input, 'form');
  } catch (err) {
    if (err instanceof InvalidRequestError) return err.fields ?? [];
    throw err;
  }
  throw new Error('expected the input to be refused');
}

const french = catalogue().translator('fr');
const german = catalogue().translator('de');

describe('fieldMessage', () => {
  it('renders zod\'s own messages in the language, naming the type received (never the value)', () => {
    const [tooLong] = issuesOf(z.object({ name: z.string().max(3) }), { name: 'secret-value' });
    expect(tooLong.message).toBe('Too big: expected string to have <=3 characters');
    expect(fieldMessage(tooLong, 'fr', french)).toBe('Trop grand : chaîne de caractères doit avoir <=3 caractères');
    const [wrongType] = issuesOf(z.object({ age: z.number() }), { age: 'secret-value' });
    expect(fieldMessage(wrongType, 'de', german)).toContain('Zahl');
    expect(JSON.stringify(wrongType)).not.toContain('secret-value');
  });

  it('renders our schemas\' messages from the validation catalogue', () => {
    const issues = issuesOf(createPartnerSchema, { slug: 'Bad Slug', name: 'P', issuer: 'https://p.example' });
    const slug = issues.find((i) => i.path === 'slug')!;
    expect(slug.message).toBe('must be 1-63 lower-case letters, digits or dashes');
    expect(fieldMessage(slug, 'fr', french)).toBe('doit compter 1 à 63 lettres minuscules, chiffres ou tirets');
    expect(fieldMessage(issues.find((i) => i.path === 'secret')!, 'de', german)).toBe('genau eines von secret, jwks oder jwks_uri ist erforderlich');
  });

  it('fills templated messages (values in them) in the language', () => {
    const [problem] = brandingContrastProblems({ primary_color: '#ffff00' });
    expect(problem.message).toMatch(/^white button labels and links on primary_color: contrast 1\.\d+:1 \(#ffffff on #ffff00\)/);
    expect(fieldMessage(problem, 'fr', french)).toMatch(/^textes blancs des boutons et liens sur primary_color : le contraste 1\.\d+:1 \(#ffffff sur #ffff00\)/);
  });

  it('keeps a message the catalogue lacks in English', () => {
    expect(fieldMessage({ path: 'x', message: 'a message nobody translated' }, 'fr', french)).toBe('a message nobody translated');
  });

  it('answers the Admin API with path and message only', () => {
    const [issue] = issuesOf(z.object({ name: z.string().max(3) }), { name: 'long' });
    expect(new InvalidRequestError('The form is invalid.', [issue]).toJSON()).toEqual({
      error: 'invalid_request', error_description: 'The form is invalid.', fields: [{ path: 'name', message: issue.message }],
    });
  });
});

/** Messages our code writes for a refused field: in schemas (`.regex(…, 'msg')`, refinements, `message:`) and services. */
const MESSAGE_PATTERNS = [
  /\.regex\(\/(?:\\\/|[^/\n])+\/[a-z]*,\s*'([^'\n]+)'/g,
  /\.regex\([A-Za-z_.]+,\s*'([^'\n]+)'/g,
  /\.(?:min|max|length)\(\d+,\s*'([^'\n]+)'/g,
  /message:\s*'([^'\n]+)'/g,
  /[})]\s*,\s*'([^'\n]+)'\s*\)/g,
  /templatedIssue\([^,]+,\s*'([^'\n]+)'/g,
  /[A-Z_]+:\s*'([^'\n]*\{\{[^'\n]+)'/g,
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === 'locales' ? [] : sources(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

describe('the validation catalogue', () => {
  it('has every field message the code writes', () => {
    const english = catalogue().translator('en');
    const missing: string[] = [];
    for (const file of ['src', 'interactions'].flatMap((d) => sources(path.join(projectRoot, d)))) {
      const text = readFileSync(file, 'utf8');
      if (!text.includes("from 'zod'") && !text.includes('FieldIssue') && !text.includes('templatedIssue') && !text.includes('message:')) continue;
      // Log lines and what a validation is about (`validate(…, 'query string')`) are not field messages.
      const code = text.split('\n').filter((line) => !/\b(log|logger)\.(info|warn|error|debug)\(|\bvalidate\(/.test(line)).join('\n');
      for (const pattern of MESSAGE_PATTERNS) {
        for (const match of code.matchAll(pattern)) {
          const message = match[1].replace(/\\\\/g, '\\').replace(/\\'/g, "'");
          // Messages are sentences (catalogue keys like `sign-in:error.code_wrong` are not) with a space in them.
          if (!/\s/.test(message) || /^[a-z-]+:[a-z_.]+$/.test(message)) continue;
          if (!english(message, { ns: 'validation', keySeparator: false, nsSeparator: false, defaultValue: '' })) missing.push(`${path.relative(projectRoot, file)}: ${message}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
