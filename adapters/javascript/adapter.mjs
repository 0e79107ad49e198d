#!/usr/bin/env node
// ChargeChain conformance adapter in JavaScript (Node standard library only).
// Speaks the harness protocol of docs/conformance.md: one JSON object per line on stdin/stdout.
import { CCError } from './errors.mjs';
import { parseJson, canonical } from './json.mjs';
import { OPERATIONS, PROFILES } from './operations.mjs';

const VERSION = '0.1.0';

function write(obj) {
  // Replies may hold BigInt integers; the canonical writer handles them (and never emits
  // whitespace or raw newlines, so one reply is one line).
  process.stdout.write(canonical(obj, 0, { bigInts: true }) + '\n');
}

function handle(line) {
  let req;
  try {
    req = parseJson(line, { strict: false });
  } catch (e) {
    process.stderr.write(`adapter: unreadable request: ${e.message}\n`);
    return true;
  }
  if (!(req instanceof Map)) return true;
  const cmd = req.get('cmd');
  if (cmd === 'start') {
    write(new Map([
      ['version', 1n],
      ['implementation', new Map([['name', 'chargechain-js'], ['language', 'javascript'], ['version', VERSION]])],
      ['profiles', PROFILES],
    ]));
    return true;
  }
  if (cmd === 'stop') return false;
  if (cmd === 'run') {
    const seq = req.get('seq');
    const c = req.get('case');
    const op = OPERATIONS[c.get('operation')];
    if (!op) { write(new Map([['seq', seq], ['skipped', `operation ${c.get('operation')} not implemented`]])); return true; }
    let reply;
    try {
      reply = new Map([['seq', seq], ['output', op(c.get('input'))]]);
    } catch (e) {
      if (e instanceof CCError) reply = new Map([['seq', seq], ['error', e.code]]);
      else reply = new Map([['seq', seq], ['errored', String(e && e.stack || e)]]);
    }
    try { write(reply); } catch (e) { write(new Map([['seq', seq], ['errored', `cannot write reply: ${e.message}`]])); }
    return true;
  }
  process.stderr.write(`adapter: unknown command ${cmd}\n`);
  return true;
}

// Read stdin as bytes, split at LF, decode each line as UTF-8, answer before reading on.
const decoder = new TextDecoder('utf-8');
let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  let nl;
  while ((nl = pending.indexOf(0x0a)) >= 0) {
    const line = decoder.decode(pending.subarray(0, nl)).replace(/\r$/, '');
    pending = pending.subarray(nl + 1);
    if (line.trim() === '') continue;
    if (!handle(line)) { process.stdin.pause(); process.exit(0); }
  }
});
process.stdin.on('end', () => process.exit(0));
