// k6/encoding: base64 in its four alphabets.
import { bytesOf, fromBase64, toBase64 } from "../bytes.js";

const text = new TextDecoder();

export function b64encode(input, encoding = "std") {
  let out = toBase64(bytesOf(input));
  if (encoding.startsWith("raw")) out = out.replace(/=+$/, "");
  if (encoding.endsWith("url")) out = out.replace(/\+/g, "-").replace(/\//g, "_");
  return out;
}

export function b64decode(input, encoding = "std", format) {
  let normal = String(input).replace(/-/g, "+").replace(/_/g, "/");
  while (normal.length % 4) normal += "=";
  const bytes = fromBase64(normal);
  return format === "s" ? text.decode(bytes) : bytes.buffer;
}

export default { b64encode, b64decode };
