// MD5 of bytes (RFC 1321), for hash-sharing programmes that still list MD5. WebCrypto has
// no MD5, so it is written out here; SHA-256 comes from WebCrypto.
"use strict";

(function (root) {
  const SHIFTS = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
  ];
  const SINES = new Int32Array(64);
  for (let i = 0; i < 64; i++) SINES[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;

  function padded(bytes) {
    const length = bytes.length;
    const total = (((length + 8) >>> 6) + 1) * 64;
    const out = new Uint8Array(total);
    out.set(bytes);
    out[length] = 0x80;
    const view = new DataView(out.buffer);
    view.setUint32(total - 8, (length * 8) >>> 0, true);
    view.setUint32(total - 4, Math.floor(length / 2 ** 29), true);
    return out;
  }

  function md5Hex(bytes) {
    const data = padded(bytes);
    const view = new DataView(data.buffer);
    let a0 = 0x67452301, b0 = 0xefcdab89 | 0, c0 = 0x98badcfe | 0, d0 = 0x10325476;
    const words = new Int32Array(16);
    for (let offset = 0; offset < data.length; offset += 64) {
      for (let i = 0; i < 16; i++) words[i] = view.getInt32(offset + i * 4, true);
      let a = a0, b = b0, c = c0, d = d0;
      for (let i = 0; i < 64; i++) {
        let f, g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        const sum = (a + f + SINES[i] + words[g]) | 0;
        a = d; d = c; c = b;
        b = (b + ((sum << SHIFTS[i]) | (sum >>> (32 - SHIFTS[i])))) | 0;
      }
      a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + d) | 0;
    }
    const digest = new DataView(new ArrayBuffer(16));
    [a0, b0, c0, d0].forEach((word, i) => digest.setInt32(i * 4, word, true));
    let hex = "";
    for (let i = 0; i < 16; i++) hex += digest.getUint8(i).toString(16).padStart(2, "0");
    return hex;
  }

  root.ShieldwallMd5 = { md5Hex: md5Hex };
})(typeof window !== "undefined" ? window : globalThis);
