/** Reading messages the way an operator would: through the Admin API outbox (simulate mode). */
import type { TestServer } from './server.js';
import { sendWaitKey } from '../../src/sign-in/identifier.js';

/** What waiting out the resend delay for `identifier` does (tests that send twice to one address on purpose). */
export async function skipSendWait(server: TestServer, slug: string, identifier: string): Promise<void> {
  const app = (await server.stores.apps.findBySlug(slug))!;
  await server.stores.ephemeral.delete(sendWaitKey(app.id, identifier.trim().toLowerCase()));
}

export async function messagesTo(server: TestServer, slug: string, to: string): Promise<any[]> {
  return (await server.admin.ok('GET', `/apps/${slug}/outbox`)).filter((m: any) => m.to === to);
}

/**
 * The newest message to `to` that `matches`. Messages are written without making the person wait (no enumeration by
 * timing), so this polls briefly.
 */
export async function lastMessage(server: TestServer, slug: string, to: string, matches: (m: any) => boolean = () => true): Promise<any> {
  for (const deadline = Date.now() + 3000; ; await new Promise((r) => setTimeout(r, 20))) {
    const message = (await messagesTo(server, slug, to)).filter(matches).at(-1);
    if (message) return message;
    if (Date.now() > deadline) throw new Error(`no message to ${to}`);
  }
}

/** The 6-digit code in a message's text. */
export function codeIn(message: { text: string }): string {
  return /\b(\d{6})\b/.exec(message.text)![1];
}

/**
 * Enters a wrong code five times, then the right one, and returns the page after the right one: a code is dead
 * after 5 wrong tries (the caller checks that page says so).
 */
export async function exhaustCode<P extends { html: string }>(enter: (page: P, code: string) => Promise<P>, first: P, code: string): Promise<P> {
  const wrong = code === '000000' ? '111111' : '000000';
  let page = first;
  for (let i = 0; i < 5; i++) {
    page = await enter(page, wrong);
    if (!page.html.includes('That code is not right')) throw new Error('a wrong code was not refused');
  }
  return enter(page, code);
}
