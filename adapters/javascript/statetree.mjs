// Profile state-tree: the compact sparse Merkle tree of docs/world-state-tree.md (WST-1..WST-10).
import { CCError } from './errors.mjs';
import { sm3, toHex } from './sm3.mjs';
import { hasLoneSurrogate } from './json.mjs';
import { members } from './incentives.mjs';

const decErr = (m) => { throw new CCError('E_DECODING', m); };
const EMPTY = new Uint8Array(32);
const cat = (...p) => Buffer.concat(p.map((x) => Buffer.from(x)));
const leafHash = (kh, vh) => sm3(cat([0x10], kh, vh));
const nodeHash = (l, r) => sm3(cat([0x11], l, r));
const bit = (kh, i) => (kh[i >> 3] >> (7 - (i & 7))) & 1;
const eq = (a, b) => Buffer.from(a).equals(Buffer.from(b));
const isHex = (s) => typeof s === 'string' && s.length % 2 === 0 && /^[0-9a-f]*$/.test(s);
const isHash = (s) => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);

function keyHash(key) {
  if (hasLoneSurrogate(key)) throw new CCError('E_ENCODING', 'key has no UTF-8 form');
  return sm3(Buffer.from(key, 'utf8'));
}

/** WST-6. pairs: [{kh, vh}] with distinct kh. */
function root(pairs, d) {
  if (pairs.length === 0) return EMPTY;
  if (pairs.length === 1) return leafHash(pairs[0].kh, pairs[0].vh);
  const s0 = pairs.filter((p) => bit(p.kh, d) === 0), s1 = pairs.filter((p) => bit(p.kh, d) === 1);
  return nodeHash(root(s0, d + 1), root(s1, d + 1));
}

/** WST-7. */
function prove(pairs, kh) {
  const siblings = [];
  let d = 0;
  let set = pairs;
  for (;;) {
    if (set.length === 0) return { siblings, leaf: null };
    if (set.length === 1) return { siblings, leaf: set[0] };
    const b = bit(kh, d);
    const here = set.filter((p) => bit(p.kh, d) === b), other = set.filter((p) => bit(p.kh, d) !== b);
    siblings.push(root(other, d + 1));
    set = here;
    d++;
  }
}

/** Decode a {key: hex} object (nulls allowed when allowNull); returns Map key -> bytes|null. */
function decodeMap(v, allowNull, name) {
  if (!(v instanceof Map)) decErr(`${name}: not an object`);
  // Entry by entry: the value, then the key's UTF-8 form (order probed from the reference).
  const out = new Map();
  for (const [k, x] of v) {
    if (x === null && allowNull) out.set(k, null);
    else if (!isHex(x)) decErr(`${name}[${k}]: not lower-case hex`);
    else out.set(k, Buffer.from(x, 'hex'));
    keyHash(k);
  }
  return out;
}

function decodeEntries(input, extra) {
  const entries = decodeMap(input.get('entries'), false, 'entries');
  const batches = [];
  if (extra.includes('updates') && input.has('updates')) {
    const u = input.get('updates');
    if (!Array.isArray(u)) decErr('updates: not a list');
    u.forEach((b, i) => batches.push(decodeMap(b, true, `updates[${i}]`)));
  }
  return { entries, batches };
}

function pairsOf(map) {
  const pairs = [];
  for (const [k, v] of map) pairs.push({ kh: keyHash(k), vh: sm3(v) });
  return pairs;
}

export function stateTreeRoot(input) {
  members(input, ['entries'], ['updates']);
  const { entries, batches } = decodeEntries(input, ['updates']);
  const map = new Map(entries);
  for (const b of batches) for (const [k, v] of b) { if (v === null) map.delete(k); else map.set(k, v); }
  return new Map([['root', toHex(root(pairsOf(map), 0))]]);
}

export function stateTreeProve(input) {
  members(input, ['entries', 'key']);
  const { entries } = decodeEntries(input, []);
  const key = input.get('key');
  if (typeof key !== 'string') decErr('key: not a string');
  const pairs = pairsOf(entries);
  const kh = keyHash(key);
  const pf = prove(pairs, kh);
  return new Map([['proof', new Map([
    ['siblings', pf.siblings.map(toHex)],
    ['leaf', pf.leaf === null ? null : new Map([['key_hash', toHex(pf.leaf.kh)], ['value_hash', toHex(pf.leaf.vh)]])],
  ])]]);
}

/** WST-8 decoder. */
function decodeProof(v) {
  members(v, ['siblings', 'leaf'], [], 'proof');
  const s = v.get('siblings');
  if (!Array.isArray(s)) decErr('siblings: not a list');
  if (s.length > 256) decErr('siblings: more than 256');
  for (const h of s) if (!isHash(h)) decErr('sibling: not 64 lower-case hex digits');
  const l = v.get('leaf');
  let leaf = null;
  if (l !== null) {
    if (!(l instanceof Map)) decErr('leaf: neither null nor an object');
    members(l, ['key_hash', 'value_hash'], [], 'leaf');
    if (!isHash(l.get('key_hash')) || !isHash(l.get('value_hash'))) decErr('leaf hash: not 64 lower-case hex digits');
    leaf = { kh: Buffer.from(l.get('key_hash'), 'hex'), vh: Buffer.from(l.get('value_hash'), 'hex') };
  }
  return { siblings: s.map((h) => Buffer.from(h, 'hex')), leaf };
}

export function stateTreeVerify(input) {
  members(input, ['root', 'key', 'value', 'proof']);
  const r = input.get('root');
  if (!isHash(r)) decErr('root: not 64 lower-case hex digits');
  const key = input.get('key');
  if (typeof key !== 'string') decErr('key: not a string');
  const value = input.get('value');
  if (value !== null && !isHex(value)) decErr('value: neither hex nor null');
  const proof = decodeProof(input.get('proof'));
  const no = new Map([['verified', false]]);
  if (hasLoneSurrogate(key)) return no; // WST-10
  const kh = keyHash(key);
  const n = proof.siblings.length;
  let h;
  if (value !== null) {
    const vh = sm3(Buffer.from(value, 'hex'));
    if (proof.leaf === null || !eq(proof.leaf.kh, kh) || !eq(proof.leaf.vh, vh)) return no;
    h = leafHash(kh, vh);
  } else if (proof.leaf === null) {
    h = EMPTY;
  } else {
    if (eq(proof.leaf.kh, kh)) return no;
    for (let i = 0; i < n; i++) if (bit(proof.leaf.kh, i) !== bit(kh, i)) return no;
    h = leafHash(proof.leaf.kh, proof.leaf.vh);
  }
  for (let i = n - 1; i >= 0; i--) h = bit(kh, i) === 0 ? nodeHash(h, proof.siblings[i]) : nodeHash(proof.siblings[i], h);
  return new Map([['verified', eq(h, Buffer.from(r, 'hex'))]]);
}
