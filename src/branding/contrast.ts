/**
 * Colour contrast as WCAG 2.2 defines it (§1.4.3 Contrast (Minimum): 4.5:1 for text; §1.4.11 Non-text Contrast:
 * 3:1 for the focus ring and controls), from the relative luminance of sRGB colours (WCAG 2.2 "relative luminance").
 */
export const TEXT_CONTRAST = 4.5;
export const UI_CONTRAST = 3;

/** `#rrggbb` (what the settings accept). */
export const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;

export function relativeLuminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** From 1 (same colour) to 21 (black on white). */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

/** Rounded down to two decimals, for messages (never shows 4.5 for 4.497). */
export function formatRatio(ratio: number): string {
  return (Math.floor(ratio * 100) / 100).toFixed(2);
}
