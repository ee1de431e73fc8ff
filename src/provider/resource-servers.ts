/**
 * oidc-provider's `features.resourceIndicators` (RFC 8707) from the app's API resources. The resources are read
 * once when the app's provider is built and served from memory: every resource change bumps the app's version, so
 * the provider pool rebuilds the provider (at once in this process, at the next version check in others). A token
 * request therefore never reads a store to resolve a resource, and a request without `resource=` does no work at all
 * beyond a map lookup for the app's default resource.
 */
import { errors, type Client, type Configuration, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { AppRecord, ResourceRecord } from '../storage/ports.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { grantMembership } from './grant-membership.js';

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

/** Every JWT access token is signed with the app's ES256 key (its first key: `apps/app-keys.ts`). */
export const ACCESS_TOKEN_SIGNING_ALG = 'ES256';

export class ResourceServers {
  private readonly byIdentifier: ReadonlyMap<string, ResourceRecord>;
  private readonly defaultResource: ResourceRecord | undefined;

  /**
   * @param withoutDefault clients that never get the default resource: the account center, which acts with a
   * userinfo (opaque) token of the app itself.
   */
  constructor(
    private readonly app: AppRecord, resources: ResourceRecord[], private readonly tenants: Pick<TenantService, 'membership'>,
    private readonly withoutDefault: (client: Client) => boolean = () => false,
  ) {
    this.byIdentifier = new Map(resources.map((r) => [r.identifier, r]));
    this.defaultResource = resources.find((r) => r.isDefault);
  }

  get(identifier: string): ResourceRecord | undefined {
    return this.byIdentifier.get(identifier);
  }

  /** The provider configuration. */
  config(): ResourceIndicators {
    return {
      enabled: true,
      defaultResource: (ctx, client, oneOf) => this.defaultFor(client, oneOf),
      getResourceServerInfo: (ctx, identifier, client) => this.info(ctx, identifier, client),
      // RFC 8707 §2.2: the code exchange gets a token for the resource the authorization request named, with or
      // without `resource=` again. A refresh without `resource=` gets a userinfo token (when `openid` was granted), as
      // before resources existed; with `resource=` it gets one for that resource.
      useGrantedResource: (_ctx, model) => model.kind === 'AuthorizationCode',
    };
  }

  /**
   * The app's default resource for requests without `resource=` (when this client may use it). With `oneOf` (several
   * granted, one needed), the default when it is among them; otherwise the list, which the library refuses as
   * `invalid_target` (RFC 8707 §2.2: the client must name one).
   */
  private defaultFor(client: Client, oneOf?: readonly string[]): string | readonly string[] | undefined {
    const preferred = this.defaultResource && mayUse(this.defaultResource, client.clientId) && !this.withoutDefault(client) ? this.defaultResource.identifier : undefined;
    if (oneOf) return preferred && oneOf.includes(preferred) ? preferred : oneOf;
    return preferred;
  }

  /**
   * RFC 8707 §2: an unknown resource, or one this client may not use, is `invalid_target`. At the token endpoint the
   * scopes are narrowed to those the person's roles in the grant's tenant permit (`role_scopes`), and a resource that
   * requires DPoP refuses a request without a proof (RFC 9449 §5; the library has verified any proof it carries).
   */
  private async info(ctx: KoaContextWithOIDC, identifier: string, client: Client): Promise<ResourceServer> {
    const resource = this.byIdentifier.get(identifier);
    if (!resource || !mayUse(resource, client.clientId)) throw new errors.InvalidTarget('unknown resource, or not one this client may use');
    const atTokenEndpoint = ctx.oidc.route === 'token';
    if (atTokenEndpoint && resource.requireDpop && !ctx.get('DPoP')) {
      throw new errors.InvalidDpopProof('this resource only accepts DPoP-bound access tokens: send a DPoP proof');
    }
    let scopes = resource.scopes.map((s) => s.value);
    if (atTokenEndpoint && resource.roleScopes && ctx.oidc.entities.Grant) scopes = await this.permitted(ctx, resource, scopes);
    return {
      scope: scopes.join(' '),
      audience: resource.identifier,
      accessTokenTTL: resource.accessTokenTtlSeconds,
      accessTokenFormat: resource.accessTokenFormat,
      ...(resource.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: ACCESS_TOKEN_SIGNING_ALG } } } : {}),
    };
  }

  /** The scopes any of the person's roles in the grant's tenant permits; none without a tenant. */
  private async permitted(ctx: KoaContextWithOIDC, resource: ResourceRecord, scopes: string[]): Promise<string[]> {
    const membership = await grantMembership(this.app, this.tenants, ctx);
    const allowed = new Set((membership?.roles ?? []).flatMap((role) => resource.roleScopes?.[role] ?? []));
    return scopes.filter((s) => allowed.has(s));
  }
}

function mayUse(resource: ResourceRecord, clientId: string): boolean {
  return !resource.allowedClients || resource.allowedClients.includes(clientId);
}
