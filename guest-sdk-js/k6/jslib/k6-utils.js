// jslib's k6-utils (https://jslib.k6.io/k6-utils/…/index.js), the helpers
// k6 scripts import most: random values and finding text between markers.
// Written for molotov.

/** An integer in [min, max]. */
export function randomIntBetween(min, max) {
  return Math.floor(Math.random() * (max - min + 1) + min);
}

/** One of `items`, at random. */
export function randomItem(items) {
  return items[Math.floor(Math.random() * items.length)];
}

/** `length` characters drawn from `charset`. */
export function randomString(length, charset = "abcdefghijklmnopqrstuvwxyz") {
  let out = "";
  for (let i = 0; i < length; i++) out += charset[Math.floor(Math.random() * charset.length)];
  return out;
}

/** A random (version 4) UUID. */
export function uuidv4() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The text between `left` and `right` in `content`: the first, or all of
 * them with `repeat`; undefined (or an empty list) when there is none. */
export function findBetween(content, left, right, repeat = false) {
  const found = [];
  let from = 0;
  for (;;) {
    const start = content.indexOf(left, from);
    if (start === -1) break;
    const end = content.indexOf(right, start + left.length);
    if (end === -1) break;
    found.push(content.slice(start + left.length, end));
    if (!repeat) break;
    from = end + right.length;
  }
  return repeat ? found : found[0];
}

export default { randomIntBetween, randomItem, randomString, uuidv4, findBetween };
