/** Where the pages live, below `/apps/{slug}`. */
export const ATTEMPT = '/interaction/:uid';
