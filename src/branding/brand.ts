/**
 * What a page or a message shows of an app's brand, with a tenant's override when the tenant is known (`tenant=` or
 * the chosen organisation): name, logo, colours, favicon and the footer's links. Colours reach the page as one small
 * inline `<style>` whose hash the page's CSP lists (no `unsafe-inline`); uploaded images are served from our own
 * address (branding-routes.ts), https images are allowed by their origin only.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_COLOURS, type Branding, type TenantBranding } from './branding-schema.js';
import { isDataUri } from './logo.js';

export interface Brand {
  name: string;
  logo?: string;
  favicon?: string;
  primaryColor: string;
  /** `:root { … }` when the brand sets a colour, else undefined (the stylesheet's defaults apply). */
  css?: string;
  /** CSP hash source of {@link css}. */
  cssHash?: string;
  /** Origins of https images, for the page's `img-src`. */
  imageOrigins: string[];
  links: { supportEmail?: string; supportUrl?: string; privacyUrl?: string; termsUrl?: string };
  poweredBy: boolean;
}

interface BrandedApp {
  slug: string;
  name: string;
  settings?: { branding?: Branding };
}

export interface BrandedTenant {
  id: string;
  branding?: TenantBranding;
}

/**
 * The name and primary colour the brand shows, the tenant's override first: what a page's header and an email's
 * heading and button use (the one rule for both, so an email looks like the page it came from).
 */
export function brandNameAndColour(app: Pick<BrandedApp, 'name' | 'settings'>, tenant?: Pick<BrandedTenant, 'branding'>): { name: string; primaryColor: string } {
  const branding = app.settings?.branding ?? {};
  const override = tenant?.branding ?? {};
  return {
    name: override.display_name ?? branding.display_name ?? app.name,
    primaryColor: override.primary_color ?? branding.primary_color ?? DEFAULT_COLOURS.primary,
  };
}

/** A short version of an image, so a changed upload gets a new address (the image answers are cached). */
function version(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 12);
}

function imageSrc(app: BrandedApp, kind: 'logo' | 'favicon', value: string | undefined, tenant?: BrandedTenant): string | undefined {
  if (!value) return undefined;
  if (!isDataUri(value)) return value;
  const query = new URLSearchParams({ ...(tenant ? { tenant: tenant.id } : {}), v: version(value) });
  return `/apps/${encodeURIComponent(app.slug)}/branding/${kind}?${query}`;
}

export function resolveBrand(app: BrandedApp, tenant?: BrandedTenant): Brand {
  const branding = app.settings?.branding ?? {};
  const override = tenant?.branding ?? {};
  const logoFromTenant = override.logo_url !== undefined;
  const primary = override.primary_color ?? branding.primary_color;
  const colours: string[] = [];
  if (primary) colours.push(`--accent: ${primary}; --focus: ${primary};`);
  if (branding.background_color) colours.push(`--bg: ${branding.background_color};`);
  if (branding.text_color) colours.push(`--fg: ${branding.text_color};`);
  // Colours are validated #rrggbb: nothing else can reach this text.
  const css = colours.length ? `:root { ${colours.join(' ')} }` : undefined;
  const logo = imageSrc(app, 'logo', override.logo_url ?? branding.logo_url, logoFromTenant ? tenant : undefined);
  const favicon = imageSrc(app, 'favicon', branding.favicon_url);
  return {
    ...brandNameAndColour(app, tenant),
    logo,
    favicon,
    css,
    cssHash: css ? `'sha256-${createHash('sha256').update(css).digest('base64')}'` : undefined,
    imageOrigins: [...new Set([logo, favicon].filter((s): s is string => !!s && /^https:/.test(s)).map((s) => new URL(s).origin))],
    links: {
      supportEmail: branding.support_email,
      supportUrl: branding.support_url,
      privacyUrl: branding.privacy_url,
      termsUrl: branding.terms_url,
    },
    poweredBy: !branding.hide_powered_by,
  };
}

/** The image a branding route answers: the tenant's logo when it has one, else the app's. */
export function brandImage(app: BrandedApp, kind: 'logo' | 'favicon', tenant?: BrandedTenant): string | undefined {
  if (kind === 'favicon') return app.settings?.branding?.favicon_url;
  return tenant?.branding?.logo_url ?? app.settings?.branding?.logo_url;
}
