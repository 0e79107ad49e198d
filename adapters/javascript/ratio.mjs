// Exact fractions of BigInts, written "n/d" in lowest terms with d > 0 (DF-3, DF-5).
import { CCError } from './errors.mjs';

const abs = (a) => (a < 0n ? -a : a);
export function gcd(a, b) { a = abs(a); b = abs(b); while (b) [a, b] = [b, a % b]; return a; }

export class Ratio {
  constructor(n, d = 1n) {
    if (d === 0n) throw new Error('zero denominator');
    if (d < 0n) { n = -n; d = -d; }
    const g = gcd(n, d) || 1n;
    this.n = n / g; this.d = d / g;
  }
  static of(x) { return x instanceof Ratio ? x : new Ratio(x, 1n); }
  add(o) { o = Ratio.of(o); return new Ratio(this.n * o.d + o.n * this.d, this.d * o.d); }
  sub(o) { o = Ratio.of(o); return new Ratio(this.n * o.d - o.n * this.d, this.d * o.d); }
  mul(o) { o = Ratio.of(o); return new Ratio(this.n * o.n, this.d * o.d); }
  div(o) { o = Ratio.of(o); return new Ratio(this.n * o.d, this.d * o.n); }
  cmp(o) { o = Ratio.of(o); const l = this.n * o.d, r = o.n * this.d; return l < r ? -1 : l > r ? 1 : 0; }
  toString() { return `${this.n}/${this.d}`; }
}
export const rmin = (a, b) => (Ratio.of(a).cmp(b) <= 0 ? Ratio.of(a) : Ratio.of(b));
export const rmax = (a, b) => (Ratio.of(a).cmp(b) >= 0 ? Ratio.of(a) : Ratio.of(b));

/** DF-5: exactly the text DF-3 writes, else E_DECODING. */
export function parseRatio(s, name = 'ratio') {
  if (typeof s !== 'string') throw new CCError('E_DECODING', `${name}: not a string`);
  const m = /^(-?)(0|[1-9][0-9]*)\/([1-9][0-9]*)$/.exec(s);
  if (!m) throw new CCError('E_DECODING', `${name}: not n/d`);
  const n = BigInt(m[1] + m[2]), d = BigInt(m[3]);
  if (m[1] === '-' && n === 0n) throw new CCError('E_DECODING', `${name}: -0`);
  if (gcd(n, d) !== 1n) throw new CCError('E_DECODING', `${name}: not in lowest terms`);
  return new Ratio(n, d);
}

/** Floor and ceiling toward -inf / +inf. */
export function floorDiv(a, b) {
  const q = a / b;
  return (a % b !== 0n && ((a < 0n) !== (b < 0n))) ? q - 1n : q;
}
export const ceilDiv = (a, b) => -floorDiv(-a, b);
export const roundHalfUp = (n, d) => floorDiv(2n * n + d, 2n * d);
