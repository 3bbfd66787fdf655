// k6/encoding: base64 in its four alphabets.
const utf8 = new TextEncoder();
const text = new TextDecoder();

const bytesOf = (input) =>
  typeof input === "string" ? utf8.encode(input) : input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer);

export function b64encode(input, encoding = "std") {
  let binary = "";
  for (const b of bytesOf(input)) binary += String.fromCharCode(b);
  let out = btoa(binary);
  if (encoding.startsWith("raw")) out = out.replace(/=+$/, "");
  if (encoding.endsWith("url")) out = out.replace(/\+/g, "-").replace(/\//g, "_");
  return out;
}

export function b64decode(input, encoding = "std", format) {
  let normal = String(input).replace(/-/g, "+").replace(/_/g, "/");
  while (normal.length % 4) normal += "=";
  const bytes = Uint8Array.from(atob(normal), (c) => c.charCodeAt(0));
  return format === "s" ? text.decode(bytes) : bytes.buffer;
}

export default { b64encode, b64decode };
