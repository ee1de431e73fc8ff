/**
 * The `branding` settings of an app and the override a tenant may set, validated at the edge: colours are `#rrggbb`,
 * URLs are https (`mailto:` for nothing: the support address is its own field), images are https URLs or data: URIs
 * of a real PNG, WebP or SVG of at most 100 KB. Colour pairs a person reads are checked against WCAG AA once the
 * patch is merged with what is stored ({@link brandingContrastProblems}), since a PATCH may change one colour of a pair.
 */
import { z } from 'zod';
import { templatedIssue, type FieldIssue } from '../errors.js';
import { HEX_COLOUR, TEXT_CONTRAST, contrastRatio, formatRatio } from './contrast.js';
import { decodeImageDataUri } from './logo.js';

const colour = z.string().regex(HEX_COLOUR, 'must be a colour written #rrggbb');
const httpsUrl = z.url({ protocol: /^https$/ }).max(2000);
/** An image: https URL, or an uploaded data: URI checked by its bytes. Data URIs of 100 KB are ~137 K characters. */
const image = z.string().max(140_000).superRefine((value, ctx) => {
  if (value.startsWith('data:')) {
    const decoded = decodeImageDataUri(value);
    if ('problem' in decoded) ctx.addIssue({ code: 'custom', message: decoded.problem });
    return;
  }
  if (!httpsUrl.safeParse(value).success) ctx.addIssue({ code: 'custom', message: 'must be an https URL or a base64 data: URI of a PNG, WebP or SVG image' });
});
const displayName = z.string().trim().min(1).max(100).regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

/** `null` clears a field in a PATCH (then the default applies). */
export const brandingSchema = z.object({
  display_name: displayName.nullable().optional(),
  logo_url: image.nullable().optional(),
  primary_color: colour.nullable().optional(),
  background_color: colour.nullable().optional(),
  text_color: colour.nullable().optional(),
  favicon_url: image.nullable().optional(),
  support_email: z.email().max(254).nullable().optional(),
  support_url: httpsUrl.nullable().optional(),
  privacy_url: httpsUrl.nullable().optional(),
  terms_url: httpsUrl.nullable().optional(),
  hide_powered_by: z.boolean().nullable().optional(),
}).strict();

/**
 * Display names of roles (`{"company_admin": "Administrator"}`), for the tenant chooser and the consent page: an app
 * names its roles once, a tenant may rename them for its people. Keys are role slugs as memberships hold them.
 */
export const roleNamesSchema = z.record(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'roles are 1-64 letters, digits, _ . : -'), displayName)
  .refine((names) => Object.keys(names).length <= 100, 'at most 100 role names');

/** The names people see for `roles`: the tenant's name for a role, else the app's, else the role itself. */
export function roleDisplayNames(roles: readonly string[], appNames?: Record<string, string>, tenantNames?: Record<string, string>): string[] {
  return roles.map((role) => tenantNames?.[role] ?? appNames?.[role] ?? role);
}

/** What a tenant may override. */
export const tenantBrandingSchema = brandingSchema.pick({ display_name: true, logo_url: true, primary_color: true }).strict();

export type BrandingInput = z.output<typeof brandingSchema>;
export type Branding = { [K in keyof BrandingInput]?: Exclude<BrandingInput[K], null> };
export type TenantBranding = Pick<Branding, 'display_name' | 'logo_url' | 'primary_color'>;

/** The colours pages use when a brand sets none (views/assets/portcullis.css). */
export const DEFAULT_COLOURS = { primary: '#2f5bea', background: '#f3f5f9', text: '#1d2330', card: '#ffffff', buttonText: '#ffffff' } as const;

/** A stored branding with a patch applied: `null` removes a field, `undefined` keeps it. */
export function mergeBranding<T extends Record<string, unknown>>(current: T | undefined, patch: Record<string, unknown> | undefined): T | undefined {
  if (!patch) return current;
  const merged: Record<string, unknown> = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return Object.keys(merged).length ? (merged as T) : undefined;
}

const CONTRAST_MESSAGES = {
  button: 'white button labels and links on primary_color: contrast {{ratio}}:1 ({{a}} on {{b}}) is below the 4.5:1 that WCAG 2.2 AA asks for text; choose a darker colour',
  card: 'text_color on the white card: contrast {{ratio}}:1 ({{a}} on {{b}}) is below the 4.5:1 that WCAG 2.2 AA asks for text; choose a more contrasting colour',
  background: 'text_color on background_color: contrast {{ratio}}:1 ({{a}} on {{b}}) is below the 4.5:1 that WCAG 2.2 AA asks for text; choose a more contrasting colour',
};

/**
 * Why these colours would make a page hard to read (WCAG 2.2 §1.4.3, AA: 4.5:1 for text), one message per pair, or
 * none. Pairs: the text on the white card and on the page background (footer), and the white label of buttons on the
 * primary colour (the primary colour is also the links' colour on the card and the focus ring, §1.4.11 3:1, which a
 * 4.5:1 pair with white satisfies).
 */
export function brandingContrastProblems(branding: Pick<Branding, 'primary_color' | 'background_color' | 'text_color'> | undefined, prefix = 'settings.branding'): FieldIssue[] {
  const primary = branding?.primary_color ?? DEFAULT_COLOURS.primary;
  const background = branding?.background_color ?? DEFAULT_COLOURS.background;
  const text = branding?.text_color ?? DEFAULT_COLOURS.text;
  const problems: FieldIssue[] = [];
  const check = (path: string, a: string, b: string, template: string) => {
    const ratio = contrastRatio(a, b);
    if (ratio < TEXT_CONTRAST) problems.push(templatedIssue(`${prefix}.${path}`, template, { ratio: formatRatio(ratio), a, b }));
  };
  if (branding?.primary_color !== undefined) check('primary_color', DEFAULT_COLOURS.buttonText, primary, CONTRAST_MESSAGES.button);
  if (branding?.text_color !== undefined || branding?.background_color !== undefined) {
    check('text_color', text, DEFAULT_COLOURS.card, CONTRAST_MESSAGES.card);
    check(branding?.text_color !== undefined ? 'text_color' : 'background_color', text, background, CONTRAST_MESSAGES.background);
  }
  return problems;
}
