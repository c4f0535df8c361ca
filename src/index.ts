export { canonicalJson, digestOf } from './core/canonical.js';
export { CountersignError } from './core/errors.js';
export { parseStrictJson } from './core/json.js';
export {
  scopeAllows,
  scopeWithin,
  patternMatches,
  type Scope,
  type ScopeEntry,
} from './core/scope.js';
export { checkRedemption } from './redemption/check.js';
export { REDEMPTION_DENIAL_CODES, type RedemptionDenialCode } from './redemption/redemption.js';
export type { ErrorCode } from './http/problem.js';
