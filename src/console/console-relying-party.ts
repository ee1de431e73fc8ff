/**
 * The console as a relying party of its own `console` app, with openid-client exactly as a portal would use it:
 * authorization code with PKCE (RFC 7636, S256), `state` and `nonce` (OIDC Core §3.1.2.1, §15.5.2), the ID token
 * validated by openid-client, and RP-Initiated Logout 1.0 for sign-out.
 */
import * as oidc from 'openid-client';
import { randomId } from '../crypto/random.js';
import { ServiceUnavailableError } from '../errors.js';
import type { ConsoleSetup } from './console-app.js';
import { CALLBACK_PATH } from './console-app.js';
import type { ConsoleFlow } from './console-session.js';

export class ConsoleRelyingParty {
  private configuration?: Promise<oidc.Configuration>;

  constructor(private readonly issuer: string, private readonly origin: string, private readonly setup: () => Promise<ConsoleSetup>) {}

  /** Drops the discovered configuration (the console app's client changed). */
  forget(): void {
    this.configuration = undefined;
  }

  private discover(): Promise<oidc.Configuration> {
    this.configuration ??= this.setup()
      .then(({ client, clientSecret }) => oidc.discovery(new URL(this.issuer), client.clientId, clientSecret, undefined, {
        execute: this.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
      }))
      .catch((err) => {
        this.configuration = undefined;
        throw new ServiceUnavailableError('console issuer', err);
      });
    return this.configuration;
  }

  /** The authorization request and the flow to keep until the browser comes back with `state`. */
  async begin(): Promise<{ url: URL; state: string; flow: Omit<ConsoleFlow, 'browser'> }> {
    const config = await this.discover();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = randomId();
    const nonce = randomId();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${this.origin}${CALLBACK_PATH}`,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, state, flow: { verifier, nonce } };
  }

  /** Redeems the code of the authorization response at `currentUrl`; the account id (`sub`) and the ID token. */
  async finish(currentUrl: URL, state: string, flow: ConsoleFlow): Promise<{ accountId: string; idToken: string }> {
    const config = await this.discover();
    const tokens = await oidc.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: flow.verifier, expectedState: state, expectedNonce: flow.nonce });
    const claims = tokens.claims();
    if (!claims?.sub || !tokens.id_token) throw new Error('no ID token in the token response');
    return { accountId: claims.sub, idToken: tokens.id_token };
  }

  /** Where the browser goes to end its session at the provider too (RP-Initiated Logout §2). */
  async endSessionUrl(idToken: string): Promise<URL> {
    const config = await this.discover();
    return oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${this.origin}/console` });
  }
}
