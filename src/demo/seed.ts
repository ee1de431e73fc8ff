import type { Config } from '../../config/index.js';
import { issuerFor } from '../../config/index.js';
import type { Portcullis } from '../app.js';
import type { Logger } from '../log.js';
import { randomId } from '../crypto/random.js';
import { demoRouter } from './demo-rp.js';

/**
 * On an empty embedded store: a `demo` app with a tenant, an account with a random password, and the demo relying
 * party at /demo. Never runs against a real database (main.ts only calls it for the embedded store).
 */
export async function seedDemo(portcullis: Portcullis, config: Config, log: Logger): Promise<void> {
  const { services } = portcullis;
  if ((await services.apps.list()).length > 0) return;
  const app = await services.apps.create({ slug: 'demo', name: 'Demo Portal' });
  const tenant = await services.tenants.create(app, { slug: 'acme', name: 'Acme Ltd' });
  const password = randomId(12);
  const account = await services.accounts.create(app, { email: 'demo@example.com', password, name: 'Dana Demo', email_verified: true });
  await services.tenants.putMember(app, tenant.slug, account.id, ['user', 'company_admin']);
  const redirectUri = `${config.publicUrl.origin}/demo/callback`;
  const { client, secret } = await services.clients.create(app, {
    name: 'Demo relying party',
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [`${config.publicUrl.origin}/demo`],
    first_party: true,
  });
  portcullis.koa.keys = [randomId(32)];
  portcullis.koa.use(demoRouter({ issuer: issuerFor(config, app.slug), clientId: client.clientId, clientSecret: secret!, redirectUri, keys: portcullis.koa.keys }).routes());
  // No admin key here: main.ts prints a generated key once, and never one the operator supplied.
  log.info(
    { demo: `${config.publicUrl.origin}/demo`, email: 'demo@example.com', password, issuer: issuerFor(config, app.slug) },
    `Demo ready: open ${config.publicUrl.origin}/demo and sign in as demo@example.com with password ${password}`,
  );
}
