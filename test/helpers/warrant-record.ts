import type { WarrantClaims, WarrantRecord } from '../../src/warrant/warrant.js';

/** The stored record of a warrant with `claims`: active, used once, unless `over` says otherwise. */
export const recordOf = (
  claims: WarrantClaims,
  over: Partial<WarrantRecord> = {},
): WarrantRecord => ({
  id: claims.jti,
  requestId: claims.request_id,
  kid: 'kid-1',
  token: 'header.payload.signature',
  claims,
  notBefore: new Date(claims.nbf * 1000).toISOString(),
  notAfter: new Date(claims.exp * 1000).toISOString(),
  uses: 1,
  maxUses: claims.max_uses,
  state: 'active',
  issuedAt: new Date(claims.iat * 1000).toISOString(),
  revokedAt: null,
  revokedBy: null,
  revokeReason: null,
  ...over,
});
