// HMAC-SM3 (docs/crypto.md CRY-2) and SM2 signatures on sm2p256v1 (CRY-3..CRY-12,
// docs/profiles/sm2.md), with BigInt arithmetic. Not constant-time: for conformance only.
import { CCError } from './errors.mjs';
import { sm3 } from './sm3.mjs';

const cat = (...parts) => Buffer.concat(parts.map((p) => Buffer.from(p)));

/** CRY-2: HMAC (RFC 2104) over SM3, B = 64, L = 32. */
export function hmacSm3(key, msg) {
  let k = key.length > 64 ? sm3(key) : key;
  const k0 = new Uint8Array(64);
  k0.set(k);
  const ipad = k0.map((b) => b ^ 0x36);
  const opad = k0.map((b) => b ^ 0x5c);
  return sm3(cat(opad, sm3(cat(ipad, msg))));
}

// GB/T 32918.5-2017 sm2p256v1.
export const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
export const A = 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn;
export const B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
export const N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
export const GX = 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n;
export const GY = 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n;

const mod = (a, m) => { const r = a % m; return r < 0n ? r + m : r; };
function inv(a, m) {
  // extended Euclid
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new Error('not invertible');
  return mod(s0, m);
}

// Affine points {x, y} or null for the point at infinity.
function add(p1, p2) {
  if (p1 === null) return p2;
  if (p2 === null) return p1;
  if (p1.x === p2.x) {
    if (mod(p1.y + p2.y, P) === 0n) return null;
    const l = mod((3n * p1.x * p1.x + A) * inv(2n * p1.y, P), P);
    const x = mod(l * l - 2n * p1.x, P);
    return { x, y: mod(l * (p1.x - x) - p1.y, P) };
  }
  const l = mod((p2.y - p1.y) * inv(p2.x - p1.x, P), P);
  const x = mod(l * l - p1.x - p2.x, P);
  return { x, y: mod(l * (p1.x - x) - p1.y, P) };
}

// Jacobian coordinates for speed: (X, Y, Z) with x = X/Z^2, y = Y/Z^3; Z = 0 is infinity.
function jDouble([X, Y, Z]) {
  if (Z === 0n || Y === 0n) return [1n, 1n, 0n];
  const YY = Y * Y % P;
  const S = 4n * X * YY % P;
  const ZZ = Z * Z % P;
  const M = (3n * X * X + A * ZZ * ZZ) % P;
  const X3 = mod(M * M - 2n * S, P);
  const Y3 = mod(M * (S - X3) - 8n * YY * YY, P);
  const Z3 = 2n * Y * Z % P;
  return [X3, Y3, Z3];
}
function jAdd(p, q) {
  const [X1, Y1, Z1] = p, [X2, Y2, Z2] = q;
  if (Z1 === 0n) return q;
  if (Z2 === 0n) return p;
  const Z1Z1 = Z1 * Z1 % P, Z2Z2 = Z2 * Z2 % P;
  const U1 = X1 * Z2Z2 % P, U2 = X2 * Z1Z1 % P;
  const S1 = Y1 * Z2 % P * Z2Z2 % P, S2 = Y2 * Z1 % P * Z1Z1 % P;
  if (U1 === U2) return S1 === S2 ? jDouble(p) : [1n, 1n, 0n];
  const H = mod(U2 - U1, P), R = mod(S2 - S1, P);
  const HH = H * H % P, HHH = H * HH % P, V = U1 * HH % P;
  const X3 = mod(R * R - HHH - 2n * V, P);
  const Y3 = mod(R * (V - X3) - S1 * HHH, P);
  const Z3 = Z1 * Z2 % P * H % P;
  return [X3, Y3, Z3];
}
const toJ = (pt) => (pt === null ? [1n, 1n, 0n] : [pt.x, pt.y, 1n]);
function fromJ([X, Y, Z]) {
  if (Z === 0n) return null;
  const zi = inv(Z, P), zi2 = zi * zi % P;
  return { x: X * zi2 % P, y: Y * zi2 % P * zi % P };
}
export function mul(k, pt) {
  let r = [1n, 1n, 0n];
  const q = toJ(pt);
  for (let i = BigInt(k.toString(2).length) - 1n; i >= 0n; i--) {
    r = jDouble(r);
    if ((k >> i) & 1n) r = jAdd(r, q);
  }
  return fromJ(r);
}
function mul2(k1, p1, k2, p2) {
  return fromJ(jAdd(toJ(mul(k1, p1)), toJ(mul(k2, p2))));
}
export const G = { x: GX, y: GY };

export const os2ip = (b) => (b.length ? BigInt('0x' + Buffer.from(b).toString('hex')) : 0n);
export const i2osp = (v, len) => Uint8Array.from(Buffer.from(v.toString(16).padStart(2 * len, '0'), 'hex'));

/** CRY-4: a private key is 32 bytes, 1 <= d <= n - 2. */
export function privateScalar(bytes) {
  if (bytes.length !== 32) throw new CCError('E_KEY', 'private key not 32 bytes');
  const d = os2ip(bytes);
  if (d < 1n || d > N - 2n) throw new CCError('E_KEY', 'private key out of range');
  return d;
}
/** CRY-5. */
export function decodePublicKey(bytes) {
  if (bytes.length !== 65 || bytes[0] !== 0x04) throw new CCError('E_KEY', 'public key not 04||x||y');
  const x = os2ip(bytes.subarray(1, 33)), y = os2ip(bytes.subarray(33));
  if (x >= P || y >= P) throw new CCError('E_KEY', 'coordinate not below p');
  if (mod(y * y - (x * x * x + A * x + B), P) !== 0n) throw new CCError('E_KEY', 'point not on the curve');
  return { x, y };
}
export const encodePoint = (pt) => cat([4], i2osp(pt.x, 32), i2osp(pt.y, 32));
export const publicKey = (d) => mul(d, G);

/** CRY-8, CRY-9. */
export function za(pub, userId) {
  if (userId.length > 8191) throw new CCError('E_ENCODING', 'user id longer than 8191 bytes');
  const entl = userId.length * 8;
  return sm3(cat([entl >> 8, entl & 0xff], userId, i2osp(A, 32), i2osp(B, 32), i2osp(GX, 32), i2osp(GY, 32),
    i2osp(pub.x, 32), i2osp(pub.y, 32)));
}

function signWith(d, e, k) {
  const pt = mul(k, G);
  const r = mod(e + pt.x, N);
  if (r === 0n || r + k === N) return null;
  const s = mod(inv(1n + d, N) * (k - r * d), N);
  if (s === 0n) return null;
  return { r, s };
}

/** CRY-10, CRY-11: sign; k given (a BigInt) or the deterministic RFC 6979 nonce over HMAC-SM3. */
export function sign(d, msg, userId, k) {
  const pub = publicKey(d);
  const e = os2ip(sm3(cat(za(pub, userId), msg)));
  if (k !== undefined) {
    if (k < 1n || k >= N) throw new CCError('E_KEY', 'k out of range');
    const sig = signWith(d, e, k);
    if (!sig) throw new CCError('E_KEY', 'k rejected by the signing equation');
    return cat(i2osp(sig.r, 32), i2osp(sig.s, 32));
  }
  const x = i2osp(d, 32), h = i2osp(mod(e, N), 32);
  let V = new Uint8Array(32).fill(1), K = new Uint8Array(32);
  K = hmacSm3(K, cat(V, [0], x, h)); V = hmacSm3(K, V);
  K = hmacSm3(K, cat(V, [1], x, h)); V = hmacSm3(K, V);
  for (;;) {
    V = hmacSm3(K, V);              // qlen = hlen = 256: one block per candidate
    const cand = os2ip(V);
    if (cand >= 1n && cand < N) {
      const sig = signWith(d, e, cand);
      if (sig) return cat(i2osp(sig.r, 32), i2osp(sig.s, 32));
    }
    K = hmacSm3(K, cat(V, [0])); V = hmacSm3(K, V);
  }
}

/** CRY-12 / sm2.md §sm2.verify. pub already decoded; sig already checked to be 64 bytes. */
export function verify(pub, msg, userId, sig) {
  const r = os2ip(sig.subarray(0, 32)), s = os2ip(sig.subarray(32));
  if (r < 1n || r > N - 1n || s < 1n || s > N - 1n) return false;
  const t = mod(r + s, N);
  if (t === 0n) return false;
  const pt = mul2(s, G, t, pub);
  if (pt === null) return false;
  const e = os2ip(sm3(cat(za(pub, userId), msg)));
  return mod(e + pt.x, N) === r;
}
