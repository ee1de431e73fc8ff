/**
 * Standard Webhooks signing (https://www.standardwebhooks.com, `standardwebhooks` package): `webhook-id`,
 * `webhook-timestamp` and `webhook-signature`, where the signature header lists one `v1,<base64>` per valid secret so
 * a receiver still configured with the previous secret verifies during a rotation.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A new `whsec_` secret: 32 random bytes, base64, as Standard Webhooks defines. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function signatureHeaders(secrets: string[], msgId: string, at: Date, body: string): Record<string, string> {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(msgId, at, body));
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
