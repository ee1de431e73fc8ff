/** Value helpers shared by the Mongo stores. */

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Deep copy without `undefined` properties. BSON would store them as `null`, which reads back as a different value
 * than the memory store returns. Dates and other non-plain objects are kept as they are.
 */
export function definedOnly<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => definedOnly(item)) as T;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) out[key] = definedOnly(item);
  }
  return out as T;
}

/** A value from outside, reduced to a string so that in a filter it can only ever be an equality operand. */
export function text(value: unknown): string {
  return String(value);
}
