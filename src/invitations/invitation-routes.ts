/** Admin API routes of invitations (registered through `adminRouter`'s `extend` hook). */
import type { AdminHelpers } from '../admin/router.js';
import type { RouteRegistry } from '../admin/route-registry.js';
import { createInvitationSchema } from '../admin/schemas.js';
import { presentInvitation, type InvitationService } from './invitation-service.js';

export function registerInvitationRoutes(registry: RouteRegistry, helpers: AdminHelpers, invitations: InvitationService): void {
  registry.add({ method: 'post', path: '/apps/:slug/invitations', tag: 'invitations', status: 201, body: createInvitationSchema,
    summary: 'Invite an email address (creates an invited account, or invites the existing one); the link is emailed, never returned',
    handler: async ({ params, body }) => presentInvitation(await invitations.create(await helpers.app(params), body)) });
  registry.add({ method: 'get', path: '/apps/:slug/invitations', tag: 'invitations', summary: 'List invitations',
    handler: async ({ params }) => (await invitations.list(await helpers.app(params))).map(presentInvitation) });
  registry.add({ method: 'get', path: '/apps/:slug/invitations/:invitation', tag: 'invitations', summary: 'Get an invitation',
    handler: async ({ params }) => presentInvitation(await invitations.require(await helpers.app(params), params.invitation)) });
  registry.add({ method: 'delete', path: '/apps/:slug/invitations/:invitation', tag: 'invitations', status: 204,
    summary: 'Revoke a pending invitation (its link stops working)',
    handler: async ({ params }) => invitations.revoke(await helpers.app(params), params.invitation) });
  registry.add({ method: 'post', path: '/apps/:slug/invitations/:invitation/resend', tag: 'invitations',
    summary: 'Send a pending invitation again with a new link (the previous link stops working)',
    handler: async ({ params }) => presentInvitation(await invitations.resend(await helpers.app(params), params.invitation)) });
}
