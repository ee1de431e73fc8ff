/**
 * The audit log's paging cursor: the position (createdAt, id) of the last event of a page, opaque to callers. Paging
 * by position instead of offset keeps pages stable while new events arrive at the top.
 */
import { InvalidRequestError } from '../errors.js';
import type { AuditEvent } from '../storage/ports.js';

export interface AuditPosition {
  createdAt: Date;
  id: string;
}

export function encodeAuditCursor(event: Pick<AuditEvent, 'createdAt' | 'id'>): string {
  return Buffer.from(`${event.createdAt.getTime()}.${event.id}`).toString('base64url');
}

/** The position a cursor names; a 400 for anything that is not a cursor this server produced. */
export function decodeAuditCursor(cursor: string): AuditPosition {
  const match = /^(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new InvalidRequestError('`after` is not a cursor returned by this API.');
  return { createdAt: new Date(Number(match[1])), id: match[2] };
}
