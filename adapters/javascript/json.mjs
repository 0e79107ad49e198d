// A strict JSON reader and the canonical (RFC 8785 / JCS) writer of ChargeChain's plain data.
//
// Values: null, true, false, BigInt (every JSON integer, exact), string (JS string, i.e.
// UTF-16 code units), Array, Map (object; insertion order kept, names are strings), and
// JFloat (a number written with a fraction or an exponent; only in lenient mode).
//
// docs/profiles/canonical-bytes.md, docs/data-formats.md DF-1, DF-2, DF-4, DF-5, "Input limits".
import { CCError } from './errors.mjs';

export const MAX_SAFE = (1n << 53n) - 1n;   // 2^53 - 1
export const MAX_DEPTH = 64;                 // data-formats.md, Input limits

export class JFloat {
  constructor(text) { this.text = text; }
}

const isWs = (c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c) => c >= 0x30 && c <= 0x39;
const hexVal = (c) => {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
};

/**
 * Parse one JSON text (a JS string).
 * strict = true (canonical.encode): a fraction/exponent, a duplicate member name, a too deep
 *   document, a raw lone surrogate, anything not JSON -> E_DECODING; afterwards, if the text was
 *   JSON, an integer outside +-(2^53-1) or a string with an unpaired surrogate escape -> E_ENCODING.
 * strict = false (the harness's own messages): numbers with a fraction or exponent become
 *   JFloat; nothing is refused for range or surrogates; duplicates are still refused.
 */
export function parseJson(text, { strict = true } = {}) {
  let i = 0;
  const n = text.length;
  let encodingProblem = null;
  const dec = (msg) => { throw new CCError('E_DECODING', `${msg} at ${i}`); };

  const skipWs = () => { while (i < n && isWs(text.charCodeAt(i))) i++; };

  function parseValue(depth) {
    skipWs();
    if (i >= n) dec('unexpected end');
    const c = text.charCodeAt(i);
    if (c === 0x7b) return parseObject(depth + 1);
    if (c === 0x5b) return parseArray(depth + 1);
    if (c === 0x22) return parseString();
    if (c === 0x2d || isDigit(c)) return parseNumber();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    dec('unexpected character');
  }

  function parseObject(depth) {
    if (depth > MAX_DEPTH) dec('nested too deep');
    i++; // {
    const m = new Map();
    skipWs();
    if (text.charCodeAt(i) === 0x7d) { i++; return m; }
    for (;;) {
      skipWs();
      if (text.charCodeAt(i) !== 0x22) dec('expected a member name');
      const name = parseString();
      skipWs();
      if (text.charCodeAt(i) !== 0x3a) dec('expected ":"');
      i++;
      const v = parseValue(depth);
      if (m.has(name)) dec('duplicate member name');
      m.set(name, v);
      skipWs();
      const d = text.charCodeAt(i);
      if (d === 0x2c) { i++; continue; }
      if (d === 0x7d) { i++; return m; }
      dec('expected "," or "}"');
    }
  }

  function parseArray(depth) {
    if (depth > MAX_DEPTH) dec('nested too deep');
    i++; // [
    const a = [];
    skipWs();
    if (text.charCodeAt(i) === 0x5d) { i++; return a; }
    for (;;) {
      a.push(parseValue(depth));
      skipWs();
      const d = text.charCodeAt(i);
      if (d === 0x2c) { i++; continue; }
      if (d === 0x5d) { i++; return a; }
      dec('expected "," or "]"');
    }
  }

  function parseNumber() {
    const start = i;
    if (text.charCodeAt(i) === 0x2d) i++;
    if (i >= n || !isDigit(text.charCodeAt(i))) dec('bad number');
    if (text.charCodeAt(i) === 0x30) i++;
    else while (i < n && isDigit(text.charCodeAt(i))) i++;
    let isFloat = false;
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      if (!isDigit(text.charCodeAt(i))) dec('bad fraction');
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      isFloat = true;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const s = text.charCodeAt(i);
      if (s === 0x2b || s === 0x2d) i++;
      if (!isDigit(text.charCodeAt(i))) dec('bad exponent');
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      isFloat = true;
    }
    const lit = text.slice(start, i);
    if (isFloat) {
      if (strict) dec('a number with a fraction or an exponent');
      return new JFloat(lit);
    }
    const v = BigInt(lit);
    if ((v > MAX_SAFE || v < -MAX_SAFE) && !encodingProblem) encodingProblem = 'integer out of range';
    return v;
  }

  function parseString() {
    i++; // opening quote
    let out = '';
    let runStart = i;
    for (;;) {
      if (i >= n) dec('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) { out += text.slice(runStart, i); i++; break; }
      if (c < 0x20) dec('control character in string');
      if (c >= 0xd800 && c <= 0xdfff) {
        // A raw surrogate in the text: fine when paired, else the text has no UTF-8 form.
        const d = text.charCodeAt(i + 1);
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) { i += 2; continue; }
        // Inside a string it counts as an unpaired surrogate (E_ENCODING, checked below), the
        // same as an escaped one; outside a string it is not JSON (E_DECODING). Inferred by
        // black-box probing of the reference adapter: the docs do not say.
        i++; continue;
      }
      if (c !== 0x5c) { i++; continue; }
      out += text.slice(runStart, i);
      i++;
      const e = text.charCodeAt(i);
      switch (e) {
        case 0x22: out += '"'; break;
        case 0x5c: out += '\\'; break;
        case 0x2f: out += '/'; break;
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: {
          let u = 0;
          for (let k = 1; k <= 4; k++) {
            const h = hexVal(text.charCodeAt(i + k));
            if (h < 0) dec('bad \\u escape');
            u = u * 16 + h;
          }
          i += 4;
          out += String.fromCharCode(u);
          break;
        }
        default: dec('bad escape');
      }
      i++;
      runStart = i;
    }
    // Surrogates from escapes: paired ones combine, an unpaired one has no UTF-8 form.
    if (!encodingProblem && hasLoneSurrogate(out)) encodingProblem = 'lone surrogate';
    return out;
  }

  // Scan the text for depth before parsing (as the reference scans before its parser).
  const v = parseValue(0);
  skipWs();
  if (i !== n) dec('trailing characters after the JSON text');
  if (strict && encodingProblem) throw new CCError('E_ENCODING', encodingProblem);
  return v;
}

export function hasLoneSurrogate(s) {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(k + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { k++; continue; }
      return true;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

// --- writer -------------------------------------------------------------------------------

const SHORT = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

export function writeString(s) {
  if (hasLoneSurrogate(s)) throw new CCError('E_ENCODING', 'lone surrogate');
  let out = '"';
  let runStart = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(runStart, k);
    out += SHORT[c] ?? '\\u00' + c.toString(16).padStart(2, '0');
    runStart = k + 1;
  }
  return out + s.slice(runStart) + '"';
}

// UTF-16 code unit order (RFC 8785 §3.2.3) is JavaScript's own string order.
const byCodeUnits = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The canonical text (JCS) of plain data; E_ENCODING for anything that is not plain data. */
export function canonical(v, depth = 0, { bigInts = false } = {}) {
  const opts = { bigInts };
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'bigint') {
    if (!bigInts && (v > MAX_SAFE || v < -MAX_SAFE)) throw new CCError('E_ENCODING', 'integer out of range');
    return v.toString(); // BigInt has no -0
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new CCError('E_ENCODING', 'not an exact integer');
    return canonical(BigInt(v), depth, opts);
  }
  if (typeof v === 'string') return writeString(v);
  if (depth >= MAX_DEPTH) throw new CCError('E_ENCODING', 'nested too deep');
  if (Array.isArray(v)) return '[' + v.map((x) => canonical(x, depth + 1, opts)).join(',') + ']';
  if (v instanceof Map) {
    const keys = [...v.keys()];
    for (const k of keys) if (typeof k !== 'string') throw new CCError('E_ENCODING', 'member name not a string');
    keys.sort(byCodeUnits);
    return '{' + keys.map((k) => writeString(k) + ':' + canonical(v.get(k), depth + 1, opts)).join(',') + '}';
  }
  throw new CCError('E_ENCODING', `not plain data: ${typeof v}`);
}
