/** The bare peer's two static clients, shared by the peer and the benchmark that drives it. */
export const BARE_CLIENTS = {
  m2m: { client_id: 'bare-m2m', client_secret: 'bare-m2m-secret-0123456789abcdef0123456789' },
  web: { client_id: 'bare-web', client_secret: 'bare-web-secret-0123456789abcdef0123456789' },
};
