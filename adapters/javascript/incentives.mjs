// Profiles credit, beans, supply, evaluation (docs/profiles/*.md, docs/contracts.md CRD-*, EVL-*,
// docs/incentives.md INC-*, docs/market.md).
import { CCError } from './errors.mjs';
import { Ratio, parseRatio, floorDiv, ceilDiv, roundHalfUp, rmin, rmax } from './ratio.mjs';

const decErr = (m) => { throw new CCError('E_DECODING', m); };
const fieldErr = (m) => { throw new CCError('E_TX_FIELD', m); };

export function members(input, required, optional = [], name = 'input') {
  if (!(input instanceof Map)) decErr(`${name}: not an object`);
  for (const k of required) if (!input.has(k)) decErr(`${name}: missing ${k}`);
  for (const k of input.keys()) if (!required.includes(k) && !optional.includes(k)) decErr(`${name}: unknown ${k}`);
}
function int(v, name) { if (typeof v !== 'bigint') decErr(`${name}: not an integer`); return v; }
function intIn(v, lo, hi, name) {
  int(v, name);
  if ((lo !== null && v < lo) || (hi !== null && v > hi)) fieldErr(`${name}: out of range`);
  return v;
}
const bmin = (...xs) => xs.reduce((a, b) => (b < a ? b : a));
const bmax = (...xs) => xs.reduce((a, b) => (b > a ? b : a));
const babs = (a) => (a < 0n ? -a : a);
const M31 = 1n << 31n;

// --- credit ------------------------------------------------------------------------------------
function parseCredit(v, name = 'credit') {
  members(v, ['award_sum', 'count', 'unpaid', 'repaid'], [], name);
  // Checked in the order of the ranges on credit.md (count first), each its type then its range.
  const c = {};
  c.count = intIn(v.get('count'), 0n, M31, `${name}.count`);
  c.award_sum = intIn(v.get('award_sum'), -c.count, c.count, `${name}.award_sum`);
  c.unpaid = intIn(v.get('unpaid'), 0n, c.count, `${name}.unpaid`);
  c.repaid = intIn(v.get('repaid'), 0n, M31, `${name}.repaid`);
  return c;
}
const creditMap = (c) => new Map([['award_sum', c.award_sum], ['count', c.count], ['unpaid', c.unpaid], ['repaid', c.repaid]]);
const rV = (c) => (c.count > 0n ? new Ratio(c.award_sum, c.count) : new Ratio(0n, 1n));

export function creditUpdate(input) {
  // Order (credit.md gives none; probed from the reference): the members, where payment_fen and
  // balance_after_fen belong to event "settle" only and are required there; the credit terms;
  // params; the event; then payment_fen and balance_after_fen.
  if (!(input instanceof Map)) decErr('input: not an object');
  const event = input.get('event');
  const pay = event === 'settle' ? ['payment_fen', 'balance_after_fen'] : [];
  members(input, ['credit', 'event', ...pay], ['params']);
  const c = parseCredit(input.get('credit'));
  let creditMin = new Ratio(0n, 1n);
  if (input.has('params')) {
    const p = input.get('params');
    members(p, [], ['credit_min'], 'params');
    if (p.has('credit_min')) {
      creditMin = parseRatio(p.get('credit_min'), 'credit_min');
      if (creditMin.cmp(-1n) < 0 || creditMin.cmp(1n) > 0) fieldErr('credit_min: outside [-1, 1]');
    }
  }
  if (event !== 'settle' && event !== 'repay') decErr('event: unknown');
  if (event === 'settle') {
    const pay = intIn(input.get('payment_fen'), 0n, 10n ** 12n, 'payment_fen');
    const bal = intIn(input.get('balance_after_fen'), -(10n ** 12n), 10n ** 12n, 'balance_after_fen');
    if (pay > 0n) {
      const award = bal >= 0n ? 1n : -1n;
      c.award_sum += award; c.count += 1n;
      if (award < 0n) c.unpaid += 1n;
    }
  } else {
    c.award_sum += c.unpaid; c.count += c.unpaid; c.repaid += c.unpaid; c.unpaid = 0n;
  }
  const r = rV(c);
  return new Map([['credit', creditMap(c)], ['r_v', r.toString()], ['may_start_charging', r.cmp(creditMin) >= 0]]);
}

// --- beans -------------------------------------------------------------------------------------
const BEAN_FIELDS = ['pool_fen', 'reward_fen', 'reserve_fen', 'outstanding_beans', 'money_paid_fen', 'rebate_bp',
  'max_beans', 'held_beans', 'electricity_fen', 'beans', 'price_bp', 'members'];
export function beansAmounts(input) {
  members(input, BEAN_FIELDS);
  // Each field in the listed order, its type then its range. The upper bound 10^15 is not
  // documented (beans.md names only negative values); probed from the reference.
  const v = {};
  for (const k of BEAN_FIELDS) v[k] = intIn(input.get(k), 0n, 10n ** 15n, k);
  const headroom = v.reserve_fen - v.outstanding_beans;
  return new Map([
    ['reward_due_fen', bmin(v.pool_fen, v.reward_fen)],
    ['headroom_beans', headroom],
    ['rebate_beans', bmin(floorDiv(v.money_paid_fen * v.rebate_bp, 10000n), headroom)],
    ['redeemable_beans', bmin(v.max_beans, v.held_beans, v.electricity_fen)],
    ['price_fen', ceilDiv(v.beans * v.price_bp, 10000n)],
    ['withdrawable_fen', v.reserve_fen - v.outstanding_beans],
    ['approvals_needed', ceilDiv(2n * v.members, 3n)],
  ]);
}

// --- supply ------------------------------------------------------------------------------------
const SUPPLY_FIELDS = ['energy_wh', 'delivered_wh', 'price_fen_per_kwh', 'catalog_fen_per_kwh', 'power_w', 'window_s'];
export function supplyAmounts(input) {
  members(input, SUPPLY_FIELDS);
  // Each field in the listed order, its type then its range. The upper bound 10^12 is not
  // documented (supply.md names only negative values); probed from the reference.
  const v = {};
  for (const k of SUPPLY_FIELDS) v[k] = intIn(input.get(k), 0n, 10n ** 12n, k);
  const value = (e, p) => roundHalfUp(p * e, 1000n);
  const cap = floorDiv(v.power_w * v.window_s, 3600n);
  const supplier = value(v.energy_wh, v.price_fen_per_kwh);
  const escrow = supplier + value(cap - v.energy_wh, v.catalog_fen_per_kwh);
  const used = bmin(v.energy_wh, v.delivered_wh);
  const excess = value(v.delivered_wh - used, v.catalog_fen_per_kwh);
  const shortfall = value(v.energy_wh - used, v.catalog_fen_per_kwh);
  return new Map([
    ['cap_wh', cap],
    ['escrow_fen', escrow],
    ['supplier_fen', supplier],
    ['excess_fen', excess],
    ['shortfall_fen', shortfall],
    ['refund_fen', escrow - supplier - excess + shortfall],
    ['deviation_fen', excess - shortfall],
  ]);
}

// --- evaluation --------------------------------------------------------------------------------
const DEFAULTS = { alpha: new Ratio(10n), beta: new Ratio(1n, 2n), sigma: new Ratio(1n), evaluation_max: 5n,
  rating_max: 5n, rating_full_weight_fen: 1000n };
// Ranges and order: NOT on docs/profiles/evaluation.md (it has no Errors section). Inferred: from
// the vectors, beta 3/2 is E_TX_FIELD and alpha 1/1000 is accepted (so DF-30's alpha >= 1 and
// its E_PARAMETER do not apply here); the bounds below and the order (alpha, beta, sigma,
// evaluation_max, rating_max, rating_full_weight_fen, each its type then its range) were probed
// from the reference adapter.
const R1000 = [new Ratio(1n, 1000n), new Ratio(1000n)];
function ratioIn(v, lo, hi, name) {
  const r = parseRatio(v, name);
  if (r.cmp(lo) < 0 || r.cmp(hi) > 0) fieldErr(`${name}: out of range`);
  return r;
}
function evalParams(input) {
  const p = { ...DEFAULTS };
  if (!input.has('params')) return p;
  const m = input.get('params');
  members(m, [], Object.keys(DEFAULTS), 'params');
  if (m.has('alpha')) p.alpha = ratioIn(m.get('alpha'), ...R1000, 'alpha');
  if (m.has('beta')) p.beta = ratioIn(m.get('beta'), 0n, 1n, 'beta');
  if (m.has('sigma')) p.sigma = ratioIn(m.get('sigma'), ...R1000, 'sigma');
  if (m.has('evaluation_max')) p.evaluation_max = intIn(m.get('evaluation_max'), 1n, 100n, 'evaluation_max');
  if (m.has('rating_max')) p.rating_max = intIn(m.get('rating_max'), 1n, 100n, 'rating_max');
  if (m.has('rating_full_weight_fen')) p.rating_full_weight_fen = intIn(m.get('rating_full_weight_fen'), 1n, 10n ** 12n, 'rating_full_weight_fen');
  return p;
}

/** EVL-3: phi / 10^18 = 1 / (1 + e^(-x)), x = (D - R)/sigma >= 0. */
export function damping(x) {
  const ONE = 1n << 320n;
  let k = 0n;
  let y = x;
  while (y.cmp(new Ratio(1n, 256n)) > 0) { y = y.div(2n); k++; }
  const u = floorDiv(y.n * ONE, y.d);
  let s = ONE, tau = ONE;
  for (let n = 1n; ; n++) {
    tau = floorDiv(floorDiv(tau * u, ONE), n);
    if (tau === 0n) break;
    s = n % 2n === 1n ? s - tau : s + tau;
  }
  for (let j = 0n; j < k; j++) s = floorDiv(s * s, ONE);
  const e = floorDiv(s, 1n << 64n);
  const two256 = 1n << 256n;
  return new Ratio(roundHalfUp(two256 * 10n ** 18n, two256 + e), 10n ** 18n);
}

export function evaluationRate(input) {
  members(input, ['r_micro', 'ratings', 'rating', 'credit', 'cost_fen', 'endorsed', 'owed'], ['params']);
  const p = evalParams(input);
  const Dm = p.evaluation_max * 1000000n;
  // Order and bounds (cost_fen >= 0 from the vectors; the rest probed): params first, then
  // r_micro, ratings, rating, credit, cost_fen, owed, endorsed.
  const r = intIn(input.get('r_micro'), 0n, Dm, 'r_micro');
  const ratings = intIn(input.get('ratings'), 0n, M31, 'ratings');
  const rating = intIn(input.get('rating'), 1n, p.rating_max, 'rating');
  const credit = parseCredit(input.get('credit'));
  const cost = intIn(input.get('cost_fen'), 0n, 10n ** 12n, 'cost_fen');
  const owed = intIn(input.get('owed'), 0n, M31, 'owed');
  const endorsed = intIn(input.get('endorsed'), 0n, M31, 'endorsed');
  const m = owed === 0n ? new Ratio(0n) : p.beta.mul(new Ratio(bmin(endorsed, owed), owed));
  const w = rmax(rV(credit), 0n).mul(rmin(1n, new Ratio(bmax(cost, 0n), p.rating_full_weight_fen)));
  const R = new Ratio(r, 1000000n);
  const x = new Ratio(p.evaluation_max).sub(R).div(p.sigma);
  const phi = damping(x);
  const delta = new Ratio(1n).add(m).div(p.alpha).mul(phi).mul(w)
    .mul(new Ratio(rating, p.rating_max).sub(R.div(p.evaluation_max)));
  const step = delta.mul(1000000n);
  const r2 = bmin(bmax(r + roundHalfUp(step.n, step.d), 0n), Dm);
  return new Map([
    ['m', m.toString()], ['weight', w.toString()], ['damping', phi.toString()], ['delta', delta.toString()],
    ['r_micro', r2], ['ratings', ratings + 1n],
  ]);
}

export function evaluationAttackBound(input) {
  members(input, ['delta_micro'], ['params']);
  const p = evalParams(input);
  const dm = int(input.get('delta_micro'), 'delta_micro');
  if (babs(dm) > p.evaluation_max * 1000000n) fieldErr('delta_micro: out of range');
  const K = new Ratio(1000000n).mul(new Ratio(1n).add(p.beta)).div(p.alpha.mul(p.rating_full_weight_fen)).add(new Ratio(1n, 2n));
  const q = new Ratio(babs(dm)).div(K);
  return new Map([['max_step_micro_per_fen', K.toString()], ['cost_fen', ceilDiv(q.n, q.d)]]);
}
