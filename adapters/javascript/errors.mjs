// A rejection with a ChargeChain error code (docs/error-codes.md).
export class CCError extends Error {
  constructor(code, message = '') {
    super(message ? `${code}: ${message}` : code);
    this.code = code;
  }
}
export const fail = (code, message) => { throw new CCError(code, message); };
