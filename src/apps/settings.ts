import { z } from 'zod';
import type { AppSettings } from '../storage/ports.js';
import { InvalidRequestError } from '../errors.js';
import { brandingContrastProblems, brandingSchema, mergeBranding, roleNamesSchema } from '../branding/branding-schema.js';

export const loginMethodSchema = z.enum(['password', 'email_code', 'sms_code', 'magic_link']);
export type LoginMethod = z.infer<typeof loginMethodSchema>;

/** Every app setting, with its safe default. The Admin API validates PATCH bodies with `.partial()` of this. */
export const appSettingsSchema = z.object({
  login_methods: z.array(loginMethodSchema).min(1).max(4)
    .refine((v) => new Set(v).size === v.length, 'must not repeat a method')
    .default(['password', 'email_code']),
  registration: z.enum(['open', 'invite_only', 'closed']).default('invite_only'),
  accounts_per_email: z.enum(['one', 'many']).default('one'),
  session_ttl_seconds: z.number().int().min(300).max(30 * 24 * 3600).optional(),
  messaging: z.object({
    mode: z.enum(['simulate', 'deliver']).optional(),
    sender_name: z.string().trim().min(1).max(100).optional(),
    sender_address: z.email().max(254).optional(),
  }).strict().optional(),
  invitation_landing_uri: z.url({ protocol: /^https?$/ }).max(2000).optional(),
  locale: z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'must be a language tag such as en or en-GB').default('en'),
  /** Pin pages and messages to `locale` (no ui_locales, Accept-Language or language switcher). */
  force_locale: z.boolean().optional(),
  /**
   * RP-initiated logout (OIDC RP-Initiated Logout 1.0 §2): `always` asks "Sign out of …?"; `skip_with_id_token_hint`
   * signs out without asking when the request's id_token_hint belongs to the current session (one-click sign-out).
   */
  logout_confirmation: z.enum(['always', 'skip_with_id_token_hint']).default('always'),
  /** Second factors (src/mfa/policy.ts): `off`, `optional` (those who enrolled are asked), `required` (everyone). */
  mfa: z.enum(['off', 'optional', 'required']).optional(),
  /** Which factors count as a second factor. */
  mfa_methods: z.array(z.enum(['totp', 'webauthn', 'email_code'])).min(1).max(3)
    .refine((v) => new Set(v).size === v.length, 'must not repeat a method').optional(),
  /** Passkeys offered as the whole sign-in (no identifier, no password). */
  passkey_sign_in: z.boolean().optional(),
  /** Days a browser may skip the second factor after "Remember this device" (0 = not offered). */
  mfa_remember_days: z.number().int().min(0).max(90).optional(),
  /** Who runs this app: told by email when something needs an operator (a webhook endpoint disabled). null clears. */
  admin_contact: z.email().max(254).nullable().optional(),
  /** Name, logo, colours and footer links of the pages and messages (src/branding/); a PATCH merges, null clears a field. */
  branding: brandingSchema.optional(),
  /** Display names of roles on the tenant chooser and the consent page (a tenant's own `role_names` win). */
  role_names: roleNamesSchema.optional(),
  /** The account center offers "Delete my account" (after a confirmation step). */
  self_service_deletion: z.boolean().default(false),
}).strict();

export type AppSettingsInput = z.input<typeof appSettingsSchema>;

export interface SettingsDefaults {
  sessionTtlSeconds: number;
  messagingMode: 'simulate' | 'deliver';
}

/** Resolves a validated settings input (possibly partial, merged over `current`) into complete settings. */
export function resolveSettings(
  input: Partial<z.output<typeof appSettingsSchema>>,
  defaults: SettingsDefaults,
  current?: AppSettings,
): AppSettings {
  const base: AppSettings = current ?? {
    login_methods: ['password', 'email_code'],
    registration: 'invite_only',
    accounts_per_email: 'one',
    session_ttl_seconds: defaults.sessionTtlSeconds,
    messaging: { mode: defaults.messagingMode },
    locale: 'en',
    logout_confirmation: 'always',
    mfa: 'off',
    mfa_methods: ['totp'],
    passkey_sign_in: false,
  };
  const branding = mergeBranding(base.branding, input.branding);
  // WCAG AA on the merged colours: a PATCH of one colour is checked against the others already stored.
  const contrast = input.branding ? brandingContrastProblems(branding) : [];
  if (contrast.length) throw new InvalidRequestError(`The brand colours are too hard to read: ${contrast.map((p) => p.message).join('; ')}.`, contrast);
  const resolved = {
    ...base,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    session_ttl_seconds: input.session_ttl_seconds ?? base.session_ttl_seconds,
    messaging: { ...base.messaging, ...input.messaging, mode: input.messaging?.mode ?? base.messaging.mode },
    branding,
  } as AppSettings;
  if (!branding) delete resolved.branding;
  return resolved;
}
