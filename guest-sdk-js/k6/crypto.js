// k6/crypto: hashes and HMACs, computed in the guest (MD5, SHA-1, SHA-256,
// SHA-384, SHA-512), and random bytes.
import { bytesOf, toBase64 } from "../bytes.js";

/** The message padded as MD5 and SHA-1/256 pad it: 64-byte blocks. */
function padded(bytes, blockSize, littleEndian) {
  const lengthBytes = blockSize / 8;
  const total = Math.ceil((bytes.length + 1 + lengthBytes) / blockSize) * blockSize;
  const out = new Uint8Array(total);
  out.set(bytes);
  out[bytes.length] = 0x80;
  const bits = BigInt(bytes.length) * 8n;
  for (let i = 0; i < 8; i++) {
    const byte = Number((bits >> BigInt(8 * i)) & 0xffn);
    out[littleEndian ? total - lengthBytes + i : total - 1 - i] = byte;
  }
  return out;
}

const rotl = (x, n) => (x << n) | (x >>> (32 - n));
const rotr = (x, n) => (x >>> n) | (x << (32 - n));

const MD5_SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const MD5_K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

function md5(bytes) {
  const m = padded(bytes, 64, true);
  const view = new DataView(m.buffer);
  let [a0, b0, c0, d0] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  for (let off = 0; off < m.length; off += 64) {
    let [a, b, c, d] = [a0, b0, c0, d0];
    for (let i = 0; i < 64; i++) {
      let f, g;
      if (i < 16) [f, g] = [(b & c) | (~b & d), i];
      else if (i < 32) [f, g] = [(d & b) | (~d & c), (5 * i + 1) % 16];
      else if (i < 48) [f, g] = [b ^ c ^ d, (3 * i + 5) % 16];
      else [f, g] = [c ^ (b | ~d), (7 * i) % 16];
      const sum = (a + f + MD5_K[i] + view.getUint32(off + 4 * g, true)) | 0;
      [a, d, c] = [d, c, b];
      b = (b + rotl(sum, MD5_SHIFTS[(i >> 4) * 4 + (i % 4)])) | 0;
    }
    [a0, b0, c0, d0] = [(a0 + a) | 0, (b0 + b) | 0, (c0 + c) | 0, (d0 + d) | 0];
  }
  const out = new DataView(new ArrayBuffer(16));
  [a0, b0, c0, d0].forEach((v, i) => out.setUint32(4 * i, v, true));
  return new Uint8Array(out.buffer);
}

function sha1(bytes) {
  const m = padded(bytes, 64, false);
  const view = new DataView(m.buffer);
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Int32Array(80);
  for (let off = 0; off < m.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(off + 4 * i);
    for (let i = 16; i < 80; i++) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    let [a, b, c, d, e] = h;
    for (let i = 0; i < 80; i++) {
      const [f, k] =
        i < 20 ? [(b & c) | (~b & d), 0x5a827999] : i < 40 ? [b ^ c ^ d, 0x6ed9eba1] : i < 60 ? [(b & c) | (b & d) | (c & d), 0x8f1bbcdc] : [b ^ c ^ d, 0xca62c1d6];
      const t = (rotl(a, 5) + f + e + k + w[i]) | 0;
      [e, d, c, b, a] = [d, c, rotl(b, 30), a, t];
    }
    [a, b, c, d, e].forEach((v, i) => (h[i] = (h[i] + v) | 0));
  }
  const out = new DataView(new ArrayBuffer(20));
  h.forEach((v, i) => out.setInt32(4 * i, v));
  return new Uint8Array(out.buffer);
}

const SHA256_K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

function sha256(bytes) {
  const m = padded(bytes, 64, false);
  const view = new DataView(m.buffer);
  const h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  const w = new Int32Array(64);
  for (let off = 0; off < m.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(off + 4 * i);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA256_K[i] + w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      [hh, g, f, e, d, c, b, a] = [g, f, e, (d + t1) | 0, c, b, a, (t1 + t2) | 0];
    }
    [a, b, c, d, e, f, g, hh].forEach((v, i) => (h[i] = (h[i] + v) | 0));
  }
  const out = new DataView(new ArrayBuffer(32));
  h.forEach((v, i) => out.setInt32(4 * i, v));
  return new Uint8Array(out.buffer);
}

// SHA-512's constants: the first 64 bits of the fractional parts of the
// cube roots of the first 80 primes (and of the square roots for its IVs).
const primes = (() => {
  const found = [];
  for (let n = 2; found.length < 80; n++) if (found.every((p) => n % p)) found.push(n);
  return found;
})();
/** The first 64 bits of the fractional part of `n`'s `root`th root, exactly. */
function fractionBits(n, root) {
  // Integer root of n·2^(64·root), by Newton's method on BigInts.
  const target = BigInt(n) << BigInt(64 * root);
  // Newton's method from above falls to the root's floor.
  let x = BigInt(Math.floor(n ** (1 / root)) + 1) << 64n;
  for (;;) {
    const next = ((BigInt(root) - 1n) * x + target / x ** BigInt(root - 1)) / BigInt(root);
    if (next >= x) break;
    x = next;
  }
  while (x ** BigInt(root) > target) x--;
  return x & ((1n << 64n) - 1n);
}
let sha512Constants;
const MASK64 = (1n << 64n) - 1n;
const rotr64 = (x, n) => ((x >> n) | (x << (64n - n))) & MASK64;

function sha512(bytes, outputBytes = 64) {
  sha512Constants ??= {
    k: primes.map((p) => fractionBits(p, 3)),
    iv512: primes.slice(0, 8).map((p) => fractionBits(p, 2)),
    iv384: primes.slice(8, 16).map((p) => fractionBits(p, 2)),
  };
  const { k } = sha512Constants;
  const m = padded(bytes, 128, false);
  const view = new DataView(m.buffer);
  const h = [...(outputBytes === 48 ? sha512Constants.iv384 : sha512Constants.iv512)];
  const w = new Array(80);
  for (let off = 0; off < m.length; off += 128) {
    for (let i = 0; i < 16; i++) w[i] = view.getBigUint64(off + 8 * i);
    for (let i = 16; i < 80; i++) {
      const s0 = rotr64(w[i - 15], 1n) ^ rotr64(w[i - 15], 8n) ^ (w[i - 15] >> 7n);
      const s1 = rotr64(w[i - 2], 19n) ^ rotr64(w[i - 2], 61n) ^ (w[i - 2] >> 6n);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & MASK64;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 80; i++) {
      const t1 = (hh + (rotr64(e, 14n) ^ rotr64(e, 18n) ^ rotr64(e, 41n)) + ((e & f) ^ (~e & MASK64 & g)) + k[i] + w[i]) & MASK64;
      const t2 = ((rotr64(a, 28n) ^ rotr64(a, 34n) ^ rotr64(a, 39n)) + ((a & b) ^ (a & c) ^ (b & c))) & MASK64;
      [hh, g, f, e, d, c, b, a] = [g, f, e, (d + t1) & MASK64, c, b, a, (t1 + t2) & MASK64];
    }
    [a, b, c, d, e, f, g, hh].forEach((v, i) => (h[i] = (h[i] + v) & MASK64));
  }
  const out = new DataView(new ArrayBuffer(64));
  h.forEach((v, i) => out.setBigUint64(8 * i, v));
  return new Uint8Array(out.buffer, 0, outputBytes).slice();
}

const HASHES = {
  md5: { digest: md5, block: 64 },
  sha1: { digest: sha1, block: 64 },
  sha256: { digest: sha256, block: 64 },
  sha384: { digest: (b) => sha512(b, 48), block: 128 },
  sha512: { digest: sha512, block: 128 },
};

function hashOf(algorithm) {
  const hash = HASHES[String(algorithm).toLowerCase().replace("-", "")];
  if (!hash) throw new Error(`k6/crypto: ${algorithm} is not supported (there are ${Object.keys(HASHES).join(", ")})`);
  return hash;
}

function encoded(bytes, encoding = "binary") {
  switch (encoding) {
    case "hex":
      return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    case "base64":
    case "base64url":
    case "base64rawurl": {
      let text = toBase64(bytes);
      if (encoding !== "base64") text = text.replace(/\+/g, "-").replace(/\//g, "_");
      return encoding === "base64rawurl" ? text.replace(/=+$/, "") : text;
    }
    case "binary":
      return bytes.slice().buffer;
    default:
      throw new Error(`k6/crypto: the output encoding ${encoding} is not supported (hex, base64, base64url, base64rawurl, binary)`);
  }
}

function hmacBytes(algorithm, secret, data) {
  const { digest, block } = hashOf(algorithm);
  let key = bytesOf(secret);
  if (key.length > block) key = digest(key);
  const padKey = (fill) => Uint8Array.from({ length: block }, (_, i) => (key[i] ?? 0) ^ fill);
  const join = (a, b) => {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  return digest(join(padKey(0x5c), digest(join(padKey(0x36), bytesOf(data)))));
}

class Hasher {
  #parts = [];
  #finish;
  constructor(finish) {
    this.#finish = finish;
  }
  update(input) {
    this.#parts.push(bytesOf(input));
  }
  digest(encoding) {
    const all = new Uint8Array(this.#parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of this.#parts) {
      all.set(part, at);
      at += part.length;
    }
    return encoded(this.#finish(all), encoding);
  }
}

export const createHash = (algorithm) => new Hasher((data) => hashOf(algorithm).digest(data));
export const createHMAC = (algorithm, secret) => new Hasher((data) => hmacBytes(algorithm, secret, data));
export const hmac = (algorithm, secret, data, encoding) => encoded(hmacBytes(algorithm, secret, data), encoding);
export function randomBytes(size) {
  const bytes = new Uint8Array(size);
  crypto.getRandomValues(bytes);
  return bytes.buffer;
}

const hashFunction = (name) => (input, encoding) => encoded(hashOf(name).digest(bytesOf(input)), encoding);

export default {
  md5: hashFunction("md5"),
  sha1: hashFunction("sha1"),
  sha256: hashFunction("sha256"),
  sha384: hashFunction("sha384"),
  sha512: hashFunction("sha512"),
  hmac,
  createHash,
  createHMAC,
  randomBytes,
};
