// Pricing a charging session: docs/profiles/settlement.md, docs/contracts.md (SET-2..SET-7,
// TAR-1, TAR-2), IR-TOU-3, IR-TOU-4, IR-ROUND-2, IR-SETTLE-2, IR-PRIV-3. BigInt only.
import { CCError } from './errors.mjs';

const fieldErr = (m) => { throw new CCError('E_TX_FIELD', m); };
const decErr = (m) => { throw new CCError('E_DECODING', m); };

/** Floor division toward -infinity (BigInt '/' truncates toward 0). */
export function floorDiv(a, b) {
  const q = a / b;
  return (a % b !== 0n && ((a < 0n) !== (b < 0n))) ? q - 1n : q;
}
const mod = (a, b) => a - b * floorDiv(a, b);

/** SET-2: round(n/d) = floor((2n + d) / (2d)), d > 0. */
export const roundHalfUp = (n, d) => floorDiv(2n * n + d, 2n * d);

const isInt = (v) => typeof v === 'bigint';
function intIn(v, lo, hi, name) {
  if (!isInt(v)) decErr(`${name}: not an integer`);
  if (v < lo || v > hi) fieldErr(`${name}: out of range`);
  return v;
}
function listOf(v, name) {
  if (!Array.isArray(v)) decErr(`${name}: not a list`);
  return v;
}

/** SET-4: largest remainder. */
export function apportion(total, weights) {
  const W = weights.reduce((s, w) => s + w, 0n);
  const floors = weights.map((w) => (total * w) / W);           // non-negative: '/' is floor
  const rems = weights.map((w, k) => total * w - W * floors[k]);
  let left = total - floors.reduce((s, x) => s + x, 0n);
  const order = weights.map((_, k) => k).sort((a, b) => (rems[a] > rems[b] ? -1 : rems[a] < rems[b] ? 1 : a - b));
  const parts = floors.slice();
  for (const k of order) { if (left <= 0n) break; parts[k] += 1n; left -= 1n; }
  return parts;
}

export function opApportion(input) {
  checkMembers(input, ['total', 'weights'], []);
  const total = intIn(input.get('total'), 0n, 10n ** 15n, 'total');
  const weights = listOf(input.get('weights'), 'weights');
  // 0 or more than 8 weights: E_DECODING (probed from the reference; settlement.md does not say)
  if (weights.length < 1 || weights.length > 8) decErr('weights: 1 to 8');
  for (const w of weights) intIn(w, 0n, 1n << 40n, 'weight');
  if (weights.reduce((s, w) => s + w, 0n) === 0n) fieldErr('weights sum to zero');
  return new Map([['parts', apportion(total, weights)]]);
}

function checkMembers(input, required, optional) {
  if (!(input instanceof Map)) decErr('input is not an object');
  for (const k of required) if (!input.has(k)) decErr(`missing ${k}`);
  for (const k of input.keys()) if (!required.includes(k) && !optional.includes(k)) decErr(`unknown ${k}`);
}

// DF-6: an identifier is 1..64 characters of U+0020..U+007E except '|'.
function isIdentifier(s) {
  if (typeof s !== 'string' || s.length < 1 || s.length > 64) return false;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x20 || c > 0x7e || c === 0x7c) return false;
  }
  return true;
}

/** TAR-1: parse and check a tariff's periods. Every failure before the cover check is
 * E_TX_FIELD, as in the set_tariff contract, also a wrong type or a missing or unknown member
 * (settlement.md's "E_DECODING: a value has the wrong type, or a member is missing or unknown"
 * does not apply inside `periods`; established by black-box probing, see README.md). */
export function parsePeriods(v) {
  if (!Array.isArray(v)) fieldErr('periods: not a list');
  const periods = v;
  if (periods.length < 1 || periods.length > 8) fieldErr('periods: 1 to 8');
  const KEYS = ['price_id', 'electricity_fen_per_kwh', 'service_fen_per_kwh', 'windows'];
  const fint = (x, lo, hi, name) => {
    if (typeof x !== 'bigint' || x < lo || x > hi) fieldErr(`${name}: not an integer in ${lo}..${hi}`);
    return x;
  };
  const out = [];
  periods.forEach((p, idx) => {
    const name = `periods[${idx}]`;
    if (!(p instanceof Map)) fieldErr(`${name}: not an object`);
    for (const k of KEYS) if (!p.has(k)) fieldErr(`${name}: missing ${k}`);
    for (const k of p.keys()) if (!KEYS.includes(k)) fieldErr(`${name}: unknown ${k}`);
    const priceId = p.get('price_id');
    if (!isIdentifier(priceId)) fieldErr(`${name}.price_id: not an identifier`);
    const fc = fint(p.get('electricity_fen_per_kwh'), 0n, 100000n, `${name}.electricity_fen_per_kwh`);
    const fs = fint(p.get('service_fen_per_kwh'), 0n, 100000n, `${name}.service_fen_per_kwh`);
    const ws = p.get('windows');
    if (!Array.isArray(ws) || ws.length < 1 || ws.length > 8) fieldErr(`${name}.windows: not a list of 1 to 8`);
    const windows = ws.map((w, j) => {
      const wn = `${name}.windows[${j}]`;
      if (!Array.isArray(w) || w.length !== 2) fieldErr(`${wn}: not a pair`);
      const a = fint(w[0], 0n, 1439n, `${wn}[0]`);
      const b = fint(w[1], 1n, 1440n, `${wn}[1]`);
      if (!(a < b)) fieldErr(`${wn}: start >= end`);
      return [a, b];
    });
    const sorted = windows.slice().sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    for (let j = 1; j < sorted.length; j++) if (sorted[j][0] < sorted[j - 1][1]) fieldErr(`${name}.windows overlap`);
    out.push({ priceId, fc, fs, windows });
  });
  const ids = new Set(out.map((p) => p.priceId));
  if (ids.size !== out.length) throw new CCError('E_TARIFF_PERIODS', 'price ids repeat');
  const all = out.flatMap((p) => p.windows).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  let at = 0n;
  for (const [a, b] of all) {
    if (a !== at) throw new CCError('E_TARIFF_PERIODS', 'windows overlap or leave a gap');
    at = b;
  }
  if (at !== 1440n) throw new CCError('E_TARIFF_PERIODS', 'windows leave a gap');
  return out;
}

const DAY = 86400n;

/** Seconds of local time before L that fall in the windows. */
function secondsBefore(L, windows) {
  const days = floorDiv(L, DAY);
  const s = L - DAY * days;
  let perDay = 0n, part = 0n;
  for (const [a, b] of windows) {
    const len = 60n * (b - a);
    perDay += len;
    let x = s - 60n * a;
    if (x < 0n) x = 0n;
    if (x > len) x = len;
    part += x;
  }
  return days * perDay + part;
}

export function opPrice(input) {
  checkMembers(input, ['periods', 'start_time', 'end_time', 'utc_offset_minutes', 'energy_ws',
    'commission_bp', 'commission_on_total'], []);
  const periods = parsePeriods(input.get('periods'));
  const start = intIn(input.get('start_time'), 0n, 1n << 40n, 'start_time');
  const end = intIn(input.get('end_time'), 0n, 1n << 40n, 'end_time');
  if (end < start) fieldErr('end_time < start_time');
  const offset = intIn(input.get('utc_offset_minutes'), -720n, 840n, 'utc_offset_minutes');
  const energy = intIn(input.get('energy_ws'), 0n, 10n ** 15n, 'energy_ws');
  const bp = intIn(input.get('commission_bp'), 0n, 10000n, 'commission_bp');
  const onTotal = input.get('commission_on_total');
  if (typeof onTotal !== 'boolean') decErr('commission_on_total: not a boolean');

  const local = (t) => t + 60n * offset;
  const durations = periods.map((p) => secondsBefore(local(end), p.windows) - secondsBefore(local(start), p.windows));
  let weights;
  if (end > start) weights = durations;
  else {
    const sod = mod(local(start), DAY);
    weights = periods.map((p) => (p.windows.some(([a, b]) => 60n * a <= sod && sod < 60n * b) ? 1n : 0n));
  }
  const parts = apportion(energy, weights);
  const lines = periods.map((p, k) => new Map([
    ['price_id', p.priceId],
    ['duration_s', durations[k]],
    ['energy_ws', parts[k]],
    ['electricity_fen', roundHalfUp(p.fc * parts[k], 3600000n)],
    ['service_fen', roundHalfUp(p.fs * parts[k], 3600000n)],
  ]));
  const elec = lines.reduce((s, l) => s + l.get('electricity_fen'), 0n);
  const serv = lines.reduce((s, l) => s + l.get('service_fen'), 0n);
  const total = elec + serv;
  const commission = roundHalfUp((onTotal ? total : serv) * bp, 10000n);
  return new Map([
    ['lines', lines],
    ['electricity_fen', elec],
    ['service_fen', serv],
    ['commission_fen', commission],
    ['total_fen', total],
    ['operator_fen', serv - commission],
  ]);
}
