// k6/crypto's hashes and HMACs against values Python's hashlib and hmac
// give (tests/e2e/k6.rs: every check must pass).
import crypto from "k6/crypto";
import { sha256 } from "k6/crypto";
import { check } from "k6";

const FOX = "The quick brown fox jumps over the lazy dog";

export default function () {
  check(null, {
    md5: () => crypto.md5("hello world", "hex") === "5eb63bbbe01eeed093cb22bb8f5acdc3",
    sha1: () => crypto.sha1("hello world", "hex") === "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed",
    sha256: () => sha256("hello world", "hex") === "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
    sha384: () =>
      crypto.sha384("hello world", "hex") ===
      "fdbd8e75a67f29f701a4e040385e2e23986303ea10239211af907fcbb83578b3e417cb71ce646efd0819dd8c088de1bd",
    sha512: () =>
      crypto.sha512("hello world", "hex") ===
      "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f",
    "empty sha256": () => crypto.sha256("", "hex") === "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "long md5": () => crypto.md5("a".repeat(200), "hex") === "887f30b43b2867f4a9accceee7d16e6c",
    "long sha512": () =>
      crypto.sha512("a".repeat(300), "hex") ===
      "a6a77010dd9696c23831e6549de51724df332c2075039b75fcfe6c2e6de42fbd3c80ed4073267e00c8c320712c3cdd9d65a96f90a3fe4a58a6b70a103be08e83",
    "hmac md5": () => crypto.hmac("md5", "key", FOX, "hex") === "80070713463e7749b90c2dc24911e275",
    "hmac sha1": () => crypto.hmac("sha1", "key", FOX, "hex") === "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9",
    "hmac sha256": () => crypto.hmac("sha256", "key", FOX, "hex") === "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
    "hmac sha512": () =>
      crypto.hmac("sha512", "key", FOX, "hex") ===
      "b42af09057bac1e2d41708e48a902e09b5ff7f12ab428a4fe86653c73dd248fb82f948a549f7b791a5b41915ee4d1ec3935357e4e2317250d0372afa2ebeeb3a",
    "hmac with a long key": () =>
      crypto.hmac("sha256", "k".repeat(200), FOX, "hex") === "86522d64cfd7d3d21199f47288e74cdc22a6395aff54f0270c7feef1d0fa61bf",
    base64: () => crypto.sha256("hello world", "base64") === "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
    base64rawurl: () => crypto.sha1("hello world", "base64rawurl") === "Kq5sNclPz7QV2-lfQIuc6R7oRu0",
    hasher: () => {
      const hasher = crypto.createHash("sha256");
      hasher.update("hello ");
      hasher.update("world");
      return hasher.digest("hex") === "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
    },
    "hmac hasher": () => {
      const hasher = crypto.createHMAC("sha256", "key");
      hasher.update(FOX);
      return hasher.digest("hex") === "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";
    },
    "binary digest": () => crypto.md5("hello world", "binary").byteLength === 16,
    "random bytes": () => crypto.randomBytes(8).byteLength === 8,
  });
}
