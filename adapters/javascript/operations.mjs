// The operations of the profiles this adapter claims.
import { CCError } from './errors.mjs';
import { parseJson, canonical } from './json.mjs';
import { sm3, toHex } from './sm3.mjs';
import { opApportion, opPrice } from './settlement.mjs';
import * as sm2 from './sm2.mjs';
import { bancorSpot, bancorPurchase, bancorSale, marketFill } from './bancor.mjs';
import { stateTreeRoot, stateTreeProve, stateTreeVerify } from './statetree.mjs';
import { creditUpdate, beansAmounts, supplyAmounts, evaluationRate, evaluationAttackBound } from './incentives.mjs';

const decErr = (m) => { throw new CCError('E_DECODING', m); };

export function fromHex(s, name = 'hex') {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) decErr(`${name}: not lower-case hex`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

function members(input, required, optional = []) {
  if (!(input instanceof Map)) decErr('input is not an object');
  for (const k of required) if (!input.has(k)) decErr(`missing ${k}`);
  for (const k of input.keys()) if (!required.includes(k) && !optional.includes(k)) decErr(`unknown ${k}`);
}

// --- canonical-bytes ---------------------------------------------------------------------------
function canonicalEncode(input) {
  if (!(input instanceof Map)) decErr('input is not an object');
  const hasJson = input.has('json'), hasHex = input.has('json_hex');
  if (hasJson === hasHex) decErr('exactly one of json and json_hex');
  members(input, [hasJson ? 'json' : 'json_hex']);
  let text;
  if (hasJson) {
    text = input.get('json');
    if (typeof text !== 'string') decErr('json: not a string');
  } else {
    const bytes = fromHex(input.get('json_hex'), 'json_hex');
    if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) decErr('byte-order mark');
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch { decErr('not UTF-8'); }
  }
  if (text.charCodeAt(0) === 0xfeff) decErr('byte-order mark');
  return new Map([['canonical', canonical(parseJson(text, { strict: true }))]]);
}

// --- sm3 ---------------------------------------------------------------------------------------
function sm3Digest(input) {
  members(input, ['msg']);
  return new Map([['digest', toHex(sm3(fromHex(input.get('msg'), 'msg')))]]);
}

// --- merkle (RFC 6962 shape with SM3) ----------------------------------------------------------
export function merkleRoot(leaves) {
  if (leaves.length === 0) return sm3(new Uint8Array(0));
  if (leaves.length === 1) return sm3(Buffer.concat([Buffer.from([0]), leaves[0]]));
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sm3(Buffer.concat([Buffer.from([1]), merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k))]));
}
function merkleRootOp(input) {
  members(input, ['leaves']);
  const leaves = input.get('leaves');
  if (!Array.isArray(leaves)) decErr('leaves: not a list');
  return new Map([['root', toHex(merkleRoot(leaves.map((l, i) => fromHex(l, `leaves[${i}]`))))]]);
}

// --- hmac-sm3 ----------------------------------------------------------------------------------
function hmacTag(input) {
  members(input, ['key', 'msg']);
  const key = fromHex(input.get('key'), 'key'), msg = fromHex(input.get('msg'), 'msg');
  return new Map([['tag', toHex(sm2.hmacSm3(key, msg))]]);
}

// --- sm2 ---------------------------------------------------------------------------------------
function sm2PublicKey(input) {
  members(input, ['private_key']);
  const d = sm2.privateScalar(fromHex(input.get('private_key'), 'private_key'));
  return new Map([['public_key', toHex(sm2.encodePoint(sm2.publicKey(d)))]]);
}
function sm2Za(input) {
  members(input, ['public_key', 'user_id']);
  const pubBytes = fromHex(input.get('public_key'), 'public_key');
  const uid = fromHex(input.get('user_id'), 'user_id');
  const pub = sm2.decodePublicKey(pubBytes);
  return new Map([['za', toHex(sm2.za(pub, uid))]]);
}
function sm2Sign(input) {
  members(input, ['private_key', 'msg', 'user_id'], ['k']);
  const dBytes = fromHex(input.get('private_key'), 'private_key');
  const msg = fromHex(input.get('msg'), 'msg');
  const uid = fromHex(input.get('user_id'), 'user_id');
  let k;
  if (input.has('k')) {
    const kh = input.get('k');
    if (typeof kh !== 'string' || kh.length !== 64) decErr('k: not 64 hex digits');
    k = sm2.os2ip(fromHex(kh, 'k'));
  }
  const d = sm2.privateScalar(dBytes);
  if (uid.length > 8191) throw new CCError('E_ENCODING', 'user id longer than 8191 bytes');
  return new Map([['signature', toHex(sm2.sign(d, msg, uid, k))]]);
}
function sm2Verify(input) {
  members(input, ['public_key', 'msg', 'user_id', 'signature']);
  const pubBytes = fromHex(input.get('public_key'), 'public_key');
  const msg = fromHex(input.get('msg'), 'msg');
  const uid = fromHex(input.get('user_id'), 'user_id');
  const sig = fromHex(input.get('signature'), 'signature');
  const pub = sm2.decodePublicKey(pubBytes);
  if (uid.length > 8191) throw new CCError('E_ENCODING', 'user id longer than 8191 bytes');
  if (sig.length !== 64) throw new CCError('E_SIGNATURE_FORMAT', 'signature not 64 bytes');
  return new Map([['verified', sm2.verify(pub, msg, uid, sig)]]);
}

export const OPERATIONS = {
  'bancor.spot': bancorSpot,
  'bancor.purchase': bancorPurchase,
  'bancor.sale': bancorSale,
  'market.fill': marketFill,
  'state-tree.root': stateTreeRoot,
  'state-tree.prove': stateTreeProve,
  'state-tree.verify': stateTreeVerify,
  'credit.update': creditUpdate,
  'beans.amounts': beansAmounts,
  'supply.amounts': supplyAmounts,
  'evaluation.rate': evaluationRate,
  'evaluation.attack-bound': evaluationAttackBound,
  'hmac-sm3.tag': hmacTag,
  'sm2.public_key': sm2PublicKey,
  'sm2.za': sm2Za,
  'sm2.sign': sm2Sign,
  'sm2.verify': sm2Verify,
  'canonical.encode': canonicalEncode,
  'sm3.digest': sm3Digest,
  'merkle.root': merkleRootOp,
  'settlement.apportion': opApportion,
  'settlement.price': opPrice,
};
export const PROFILES = ['canonical-bytes', 'sm3', 'hmac-sm3', 'sm2', 'merkle', 'state-tree', 'settlement', 'credit', 'beans', 'supply', 'evaluation', 'bancor'];
