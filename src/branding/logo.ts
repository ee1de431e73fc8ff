/**
 * Uploaded images (logo, favicon) as `data:` URIs: at most 100 KB decoded, and really a PNG, WebP or SVG, told by
 * the bytes themselves (magic numbers), not by the type the URI claims. SVG is the one that can carry script: it is
 * never put into a page as markup, only served from our own address with a CSP that blocks everything but inline
 * styles, sandboxed (see logo-route.ts), and shown through `<img>`, where browsers run no script anyway.
 */
export const MAX_IMAGE_BYTES = 100 * 1024;

export type ImageType = 'image/png' | 'image/webp' | 'image/svg+xml';

export interface DecodedImage {
  type: ImageType;
  bytes: Buffer;
}

const DATA_URI = /^data:([a-z]+\/[a-z0-9.+-]+)(;[a-z0-9-]+=[^;,]*)*;base64,([A-Za-z0-9+/]*={0,2})$/i;

/** What the bytes are (PNG signature, RIFF…WEBP, or text whose first element is `<svg`), or undefined. */
export function sniffImage(bytes: Buffer): ImageType | undefined {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  // SVG: optional BOM, XML declaration, comments and doctype, then the <svg root element.
  const head = bytes.subarray(0, 2048).toString('utf8').replace(/^\uFEFF/, '');
  if (/^\s*(<\?xml[^>]*\?>\s*)?((<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)\s*)*<svg[\s>]/i.test(head)) return 'image/svg+xml';
  return undefined;
}

/** The image of a `data:` URI, or the reason it is refused (for the 400's message). */
export function decodeImageDataUri(uri: string): DecodedImage | { problem: string } {
  const match = DATA_URI.exec(uri);
  if (!match) return { problem: 'must be an https URL or a base64 data: URI of an image' };
  const bytes = Buffer.from(match[3], 'base64');
  if (bytes.length === 0) return { problem: 'the image is empty' };
  if (bytes.length > MAX_IMAGE_BYTES) return { problem: `the image is ${Math.ceil(bytes.length / 1024)} KB; at most 100 KB` };
  const type = sniffImage(bytes);
  if (!type) return { problem: 'the image must be a PNG, WebP or SVG file' };
  return { type, bytes };
}

export function isDataUri(value: string | undefined): value is string {
  return typeof value === 'string' && value.startsWith('data:');
}
