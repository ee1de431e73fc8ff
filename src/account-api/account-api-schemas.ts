/** Inputs of the account API (`/apps/{slug}/api/account/…`); objects are strict: unknown fields are a 400. */
import { z } from 'zod';
import { personName } from '../accounts/contact-schemas.js';

/** Languages pages and messages exist in (`src/i18n/locales/`): the values of the `locale` claim people may choose. */
export const PROFILE_LOCALES = ['en', 'fr', 'de', 'es'] as const;

export const profilePatchSchema = z.object({
  name: personName.optional(),
  locale: z.enum(PROFILE_LOCALES).optional(),
}).strict().refine((p) => Object.keys(p).length > 0, { message: 'name or locale is required' });

/** Session uids and grant ids as oidc-provider makes them (nanoid): anything else is simply not found. */
export const recordIdParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
