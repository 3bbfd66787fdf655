// Bytes as the SDK's modules take and give them.
const utf8 = new TextEncoder();

/** A string (as UTF-8), an ArrayBuffer or a typed array, as bytes. */
export const bytesOf = (input) =>
  typeof input === "string"
    ? utf8.encode(input)
    : input instanceof ArrayBuffer
      ? new Uint8Array(input)
      : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);

/** `bytes` in standard base64. */
export function toBase64(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The bytes that standard base64 `text` holds. */
export const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
