// Profile bancor: docs/profiles/bancor.md, docs/market.md MKT-3, MKT-4, IR-BANCOR-1.
// Decimal arithmetic of 120 significant digits, round half to even, on BigInts: every
// rational operation is rounded exactly; ln and exp are computed in fixed point with 250
// fractional digits and then rounded to 120 digits.
import { CCError } from './errors.mjs';
import { Ratio, floorDiv, ceilDiv } from './ratio.mjs';
import { members } from './incentives.mjs';

const PREC = 120;
const pow10 = (k) => 10n ** BigInt(k);
const digits = (a) => (a < 0n ? -a : a).toString().length;

// A decimal is {m, e}: m·10^e.
const toRatio = ({ m, e }) => (e >= 0 ? [m * pow10(e), 1n] : [m, pow10(-e)]);

/** n/d (d > 0) rounded half-even to PREC significant digits. */
function roundRational(n, d) {
  if (d < 0n) { n = -n; d = -d; }
  if (n === 0n) return { m: 0n, e: 0 };
  const neg = n < 0n;
  const a = neg ? -n : n;
  // choose e so that a/d / 10^e has PREC digits in its integer part
  let e = digits(a) - digits(d) - PREC;
  for (;;) {
    const [num, den] = e >= 0 ? [a, d * pow10(e)] : [a * pow10(-e), d];
    let q = num / den;
    const r = num - q * den;
    const dq = digits(q);
    if (dq < PREC) { e -= 1; continue; }
    if (dq > PREC) { e += 1; continue; }
    const twice = 2n * r;
    if (twice > den || (twice === den && (q & 1n) === 1n)) q += 1n;
    if (digits(q) > PREC) { q /= 10n; e += 1; } // 999..9 rounded up (q now ends in 0: exact)
    return { m: neg ? -q : q, e };
  }
}
const dec = (n, d = 1n) => roundRational(n, d);
const op = (x, y, f) => { const [a, b] = toRatio(x), [c, d] = toRatio(y); return f(a, b, c, d); };
const add = (x, y) => op(x, y, (a, b, c, d) => roundRational(a * d + c * b, b * d));
const sub = (x, y) => op(x, y, (a, b, c, d) => roundRational(a * d - c * b, b * d));
const mul = (x, y) => op(x, y, (a, b, c, d) => roundRational(a * c, b * d));
const div = (x, y) => op(x, y, (a, b, c, d) => roundRational(a * d, b * c));
function floorDec(x) { const [a, b] = toRatio(x); return floorDiv(a, b); }

const FB = 250n;
const SC = 10n ** FB;
const fx = (x) => { const [a, b] = toRatio(x); return floorDiv(a * SC, b); }; // fixed point

function atanhFx(z) { // z fixed, |z| <= 1/3
  let sum = 0n, term = z;
  const z2 = z * z / SC;
  for (let k = 1n; term !== 0n; k += 2n) { sum += term / k; term = term * z2 / SC; }
  return sum;
}
const LN2 = 2n * atanhFx(SC / 3n);

/** ln of a positive decimal, rounded. */
function ln(x) {
  const [a, b] = toRatio(x);
  let num = a, den = b, k = 0n;
  while (num >= 2n * den) { den *= 2n; k++; }
  while (num < den) { num *= 2n; k--; }
  const r = num * SC / den;                 // in [1, 2)
  const z = (r - SC) * SC / (r + SC);
  const v = k * LN2 + 2n * atanhFx(z);
  return roundRational(v, SC);
}

/** exp of a decimal, rounded. */
function exp(y) {
  const Y = fx(y);
  if (Y < -700n * SC) return roundRational(0n, 1n); // below 10^-300: irrelevant at this margin
  let m = 0n, t = Y;
  const lim = SC / 1024n;
  while ((t < 0n ? -t : t) > lim) { t /= 2n; m++; }
  // more guard: the halvings above lose at most m units; fine at 250 digits.
  let s = SC, term = SC;
  for (let n = 1n; term !== 0n; n++) { term = term * t / SC / n; s += term; }
  for (let j = 0n; j < m; j++) s = s * s / SC;
  return roundRational(s, SC);
}

const MARGIN = { m: 1n, e: -100 };

export function purchaseReturn(S, B, c, D) {
  if (D === 0n) return 0n;
  if (c === 1000000n) return S * D / B;
  const x = div(dec(B + D), dec(B));
  const y = mul(ln(x), div(dec(c), dec(1000000n)));
  const pi = exp(y);
  const u = mul(dec(S), pi);
  const r = floorDec(sub(sub(u, dec(S)), mul(u, MARGIN)));
  return r < 0n ? 0n : r;
}

export function saleReturn(S, B, c, T) {
  if (T === 0n) return 0n;
  if (T === S) return B;
  if (c === 1000000n) return B * T / S;
  const x = div(dec(S - T), dec(S));
  const y = mul(ln(x), div(dec(1000000n), dec(c)));
  const pi = exp(y);
  const k = mul(dec(B), pi);
  const r = floorDec(sub(sub(dec(B), k), mul(dec(B), MARGIN)));
  return r < 0n ? 0n : r;
}

const decErr = (m) => { throw new CCError('E_DECODING', m); };
const paramErr = (m) => { throw new CCError('E_PARAMETER', m); };
function ints(input, names) {
  members(input, names);
  const v = {};
  for (const k of names) { v[k] = input.get(k); if (typeof v[k] !== 'bigint') decErr(`${k}: not an integer`); }
  return v;
}
const MAXA = 10n ** 18n;
function market(v) {
  if (v.supply < 1n || v.supply > MAXA) paramErr('supply');
  if (v.reserve < 1n || v.reserve > MAXA) paramErr('reserve');
  if (v.crr_ppm < 1n || v.crr_ppm > 1000000n) paramErr('crr_ppm');
}

export function bancorSpot(input) {
  const v = ints(input, ['supply', 'reserve', 'crr_ppm']);
  market(v);
  return new Map([['price', new Ratio(v.reserve * 1000000n, v.supply * v.crr_ppm).toString()]]);
}
export function bancorPurchase(input) {
  const v = ints(input, ['supply', 'reserve', 'crr_ppm', 'deposit']);
  market(v);
  if (v.deposit < 0n || v.deposit > MAXA) paramErr('deposit');
  return new Map([['tokens', purchaseReturn(v.supply, v.reserve, v.crr_ppm, v.deposit)]]);
}
export function bancorSale(input) {
  const v = ints(input, ['supply', 'reserve', 'crr_ppm', 'tokens']);
  market(v);
  if (v.tokens < 0n || v.tokens > MAXA || v.tokens > v.supply) paramErr('tokens');
  return new Map([['fen', saleReturn(v.supply, v.reserve, v.crr_ppm, v.tokens)]]);
}
const FILL = ['price', 'wh', 'money', 'escrow_fen', 'remaining_wh', 'supply', 'reserve', 'crr_ppm'];
export function marketFill(input) {
  // Each field in the listed order, its type then its range. The upper bound 10^15 is not
  // documented (bancor.md names only negative values); probed from the reference.
  members(input, FILL);
  const v = {};
  for (const k of FILL) {
    v[k] = input.get(k);
    if (typeof v[k] !== 'bigint') decErr(`${k}: not an integer`);
    if (v[k] < 0n || v[k] > 10n ** 15n) throw new CCError('E_TX_FIELD', `${k}: outside 0..10^15`);
  }
  const p = v.price, q = v.wh;
  const proceeds = floorDiv(p * q, 1000n);
  const keep = ceilDiv(p * (v.remaining_wh - q), 1000n);
  const lhs = p * v.supply * v.crr_ppm, rhs = 1000n * v.reserve * 1000000n;
  return new Map([
    ['taker_buy_cost_fen', ceilDiv(p * q, 1000n)],
    ['taker_sell_proceeds_fen', floorDiv(p * q, 1000n)],
    ['buy_escrow_fen', ceilDiv(p * q, 1000n)],
    ['affordable_wh', p === 0n ? null : floorDiv(1000n * v.money, p)],
    ['resting_buy_fill', new Map([['proceeds', proceeds], ['keep', keep], ['surplus', v.escrow_fen - proceeds - keep]])],
    ['sell_within_spot', lhs <= rhs],
    ['buy_within_spot', lhs >= rhs],
  ]);
}
