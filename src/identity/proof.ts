import type { IdentityProof } from '../core/vocabulary.js';
import type { Principal } from './principal.js';

/** The proof of how `p` authenticated. */
export function identityProof(p: Principal): IdentityProof {
  switch (p.via) {
    case 'api_token':
      return { via: 'api_token' };
    case 'oidc':
      return {
        via: 'oidc',
        issuer: p.identity.issuer,
        subject: p.identity.subject,
        auth_time: p.identity.authTime,
        token_digest: p.identity.tokenDigest,
      };
  }
}
