/** Tokens of emailed links are `randomId(32)`: 32 random bytes in base64url. Anything else is refused before any lookup. */
export const LINK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
