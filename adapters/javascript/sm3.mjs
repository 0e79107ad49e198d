// SM3 (GB/T 32905-2016), written out from the standard. Input and output are Uint8Arrays.
const IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];
const rotl = (x, n) => ((x << (n & 31)) | (x >>> ((32 - (n & 31)) & 31))) >>> 0;
const P0 = (x) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
const P1 = (x) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;
const T = (j) => (j < 16 ? 0x79cc4519 : 0x7a879d8a);

function compress(V, B, off) {
  const W = new Uint32Array(68);
  const W1 = new Uint32Array(64);
  for (let j = 0; j < 16; j++) {
    const p = off + 4 * j;
    W[j] = ((B[p] << 24) | (B[p + 1] << 16) | (B[p + 2] << 8) | B[p + 3]) >>> 0;
  }
  for (let j = 16; j < 68; j++) {
    W[j] = (P1(W[j - 16] ^ W[j - 9] ^ rotl(W[j - 3], 15)) ^ rotl(W[j - 13], 7) ^ W[j - 6]) >>> 0;
  }
  for (let j = 0; j < 64; j++) W1[j] = (W[j] ^ W[j + 4]) >>> 0;
  let [A, Bv, C, D, E, F, G, H] = V;
  for (let j = 0; j < 64; j++) {
    const SS1 = rotl((rotl(A, 12) + E + rotl(T(j), j)) >>> 0, 7);
    const SS2 = (SS1 ^ rotl(A, 12)) >>> 0;
    const FF = j < 16 ? (A ^ Bv ^ C) : ((A & Bv) | (A & C) | (Bv & C));
    const GG = j < 16 ? (E ^ F ^ G) : ((E & F) | (~E & G));
    const TT1 = ((FF >>> 0) + D + SS2 + W1[j]) >>> 0;
    const TT2 = ((GG >>> 0) + H + SS1 + W[j]) >>> 0;
    D = C;
    C = rotl(Bv, 9);
    Bv = A;
    A = TT1;
    H = G;
    G = rotl(F, 19);
    F = E;
    E = P0(TT2);
  }
  const out = [A, Bv, C, D, E, F, G, H];
  for (let k = 0; k < 8; k++) V[k] = (V[k] ^ out[k]) >>> 0;
}

export function sm3(msg) {
  const len = msg.length;
  const padded = new Uint8Array((((len + 9 + 63) >> 6) << 6));
  padded.set(msg);
  padded[len] = 0x80;
  const bits = BigInt(len) * 8n;
  for (let k = 0; k < 8; k++) padded[padded.length - 1 - k] = Number((bits >> BigInt(8 * k)) & 0xffn);
  const V = IV.slice();
  for (let off = 0; off < padded.length; off += 64) compress(V, padded, off);
  const out = new Uint8Array(32);
  for (let k = 0; k < 8; k++) {
    out[4 * k] = V[k] >>> 24; out[4 * k + 1] = (V[k] >>> 16) & 0xff;
    out[4 * k + 2] = (V[k] >>> 8) & 0xff; out[4 * k + 3] = V[k] & 0xff;
  }
  return out;
}

export const toHex = (b) => Buffer.from(b).toString('hex');
