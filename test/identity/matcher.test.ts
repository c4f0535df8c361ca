import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readClaim } from '../../src/core/claim-path.js';
import { globMatches, matchClaims, type ClaimMatcher } from '../../src/core/claim-matcher.js';
import {
  GITHUB_ACTIONS_ISSUER,
  githubActionsMatcher,
  kubernetesMatcher,
  spiffeMatcher,
} from '../../src/identity/oidc/presets.js';
import { AUDIENCE, useFederation } from '../helpers/federation.js';

const ISS = 'https://issuer.example';
const ident = (claims: Record<string, unknown>) => ({ issuer: ISS, claims });
const exact = (claim: string, want: string): ClaimMatcher => ({
  issuer: ISS,
  claims: { [claim]: want },
});

/** Strings free of `*`, over an alphabet heavy in regex metacharacters and `/`. */
const META = [...'.^$+?()[]{}|\\/-'];
const literal = fc.string({ unit: fc.constantFrom(...META, 'a', 'b') });
const noSlash = fc.string({ unit: fc.constantFrom('a', 'b', '.', '-', '$', '(') });

describe('matchClaims', () => {
  describe('when a condition is a plain string', () => {
    it('matches only that exact string (property)', () => {
      fc.assert(
        fc.property(fc.string(), fc.string(), (want, got) => {
          expect(matchClaims(exact('c', want), ident({ c: got })).ok).toBe(want === got);
        }),
      );
    });

    it('treats * in a plain string as a literal star', () => {
      expect(matchClaims(exact('c', 'acme/*'), ident({ c: 'acme/x' })).ok).toBe(false);
      expect(matchClaims(exact('c', 'acme/*'), ident({ c: 'acme/*' })).ok).toBe(true);
    });
  });

  describe('when a condition is a glob pattern', () => {
    it('never lets * match across a / (property)', () => {
      fc.assert(
        fc.property(literal, literal, fc.string(), fc.string(), (pre, post, a, b) => {
          const middle = `${a.replaceAll('*', '')}/${b.replaceAll('*', '')}`;
          expect(globMatches(`${pre}*${post}`, `${pre}${middle}${post}`)).toBe(false);
        }),
      );
    });

    it('lets * match any run without a / and ** match any run at all (property)', () => {
      fc.assert(
        fc.property(literal, literal, noSlash, fc.string(), (pre, post, run, anything) => {
          expect(globMatches(`${pre}*${post}`, `${pre}${run}${post}`)).toBe(true);
          expect(globMatches(`${pre}**${post}`, `${pre}${anything}${post}`)).toBe(true);
        }),
      );
    });

    it('treats regex metacharacters as literals (property)', () => {
      fc.assert(
        fc.property(literal, literal, (pattern, value) => {
          expect(globMatches(pattern, value)).toBe(pattern === value);
        }),
      );
    });

    it('anchors the whole value', () => {
      expect(globMatches('refs/heads/*', 'refs/heads/main')).toBe(true);
      expect(globMatches('refs/heads/*', 'refs/heads/feature/x')).toBe(false);
      expect(globMatches('refs/heads/*', 'xrefs/heads/main')).toBe(false);
      expect(globMatches('main', 'main\n')).toBe(false);
      expect(globMatches('a.c', 'abc')).toBe(false);
      expect(globMatches('refs/**', 'refs/heads/feature/x')).toBe(true);
    });

    it('never matches an overlong value', () => {
      expect(globMatches('**', 'a'.repeat(5000))).toBe(false);
    });
  });

  describe('when the identity does not fit', () => {
    it('names the first failing claim in sorted order, never its value', () => {
      const m: ClaimMatcher = {
        issuer: ISS,
        claims: { repository: 'acme/deploy', environment: 'prod' },
      };
      expect(matchClaims(m, ident({ repository: 'evil/x', environment: 'dev' }))).toEqual({
        ok: false,
        claim: 'environment',
      });
      expect(matchClaims(m, { issuer: 'https://other', claims: {} })).toEqual({
        ok: false,
        claim: 'iss',
      });
    });

    it('fails closed on a matcher without claims, and on non-string values', () => {
      expect(matchClaims({ issuer: ISS, claims: {} }, ident({}))).toEqual({
        ok: false,
        claim: '*',
      });
      expect(matchClaims(exact('n', '1'), ident({ n: 1 })).ok).toBe(false);
      expect(matchClaims(exact('a', 'x'), ident({ a: ['x'] })).ok).toBe(false);
    });
  });
});

describe('readClaim', () => {
  it('reads Kubernetes claims through the dotted "kubernetes.io" key', () => {
    const claims = { 'kubernetes.io': { namespace: 'prod', serviceaccount: { name: 'ci' } } };
    expect(readClaim(claims, 'kubernetes.io.namespace')).toBe('prod');
    expect(readClaim(claims, 'kubernetes.io.serviceaccount.name')).toBe('ci');
  });

  it('reads nothing from prototypes or arrays, and nothing from an ambiguous path', () => {
    expect(readClaim({}, 'constructor')).toBeUndefined();
    expect(readClaim({ a: {} }, 'a.__proto__')).toBeUndefined();
    expect(readClaim({ a: ['x'] }, 'a.0')).toBeUndefined();
    expect(readClaim({ 'a.b': 'one', a: { b: 'two' } }, 'a.b')).toBeUndefined();
    expect(readClaim({ 'a.b': 'same', a: { b: 'same' } }, 'a.b')).toBe('same');
  });
});

describe('presets', () => {
  const f = useFederation();

  describe('when a GitHub Actions job redeems', () => {
    const bind = () =>
      githubActionsMatcher({
        issuer: f.github.issuer,
        repository: 'acme/deploy',
        repositoryId: '123456',
        environment: 'prod',
        ref: { pattern: 'refs/heads/*' },
      });

    it('matches the job it was bound to', async () => {
      const id = await f
        .verifier()
        .verify(await f.github.mintGithubActions(f.clock.now(), AUDIENCE));
      expect(matchClaims(bind(), id)).toEqual({ ok: true });
    });

    it('refuses a job from another repository, naming the claim', async () => {
      const token = await f.github.mintGithubActions(f.clock.now(), AUDIENCE, {
        repository: 'acme/other',
      });
      expect(matchClaims(bind(), await f.verifier().verify(token))).toEqual({
        ok: false,
        claim: 'repository',
      });
    });

    it('refuses a job in another environment or on a nested branch, naming the claim', async () => {
      const v = f.verifier();
      const staging = await f.github.mintGithubActions(f.clock.now(), AUDIENCE, {
        environment: 'staging',
      });
      expect(matchClaims(bind(), await v.verify(staging))).toEqual({
        ok: false,
        claim: 'environment',
      });
      const nested = await f.github.mintGithubActions(f.clock.now(), AUDIENCE, {
        ref: 'refs/heads/evil/main',
      });
      expect(matchClaims(bind(), await v.verify(nested))).toEqual({ ok: false, claim: 'ref' });
    });

    it('will not build a binding that names no repository', () => {
      expect(() => githubActionsMatcher({ environment: 'prod' })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
      expect(githubActionsMatcher({ repository: 'a/b' }).issuer).toBe(GITHUB_ACTIONS_ISSUER);
    });
  });

  describe('when a Kubernetes service account redeems', () => {
    it('matches namespace and account, and refuses another namespace', async () => {
      const v = f.verifier();
      const m = kubernetesMatcher({
        issuer: f.k8s.issuer,
        namespace: 'payments',
        serviceAccount: 'deployer',
      });
      expect(
        matchClaims(m, await v.verify(await f.k8s.mintKubernetes(f.clock.now(), AUDIENCE))),
      ).toEqual({ ok: true });
      const other = await f.k8s.mintKubernetes(f.clock.now(), AUDIENCE, { namespace: 'sandbox' });
      expect(matchClaims(m, await v.verify(other))).toEqual({
        ok: false,
        claim: 'kubernetes.io.namespace',
      });
    });
  });

  describe('when a SPIFFE workload redeems', () => {
    it('matches a SPIFFE ID subtree and refuses a sibling', async () => {
      const v = f.verifier();
      const m = spiffeMatcher({
        issuer: f.spiffe.issuer,
        spiffeId: { pattern: 'spiffe://prod.acme/ns/payments/**' },
      });
      const ok = await f.spiffe.mintSpiffe(
        f.clock.now(),
        AUDIENCE,
        'spiffe://prod.acme/ns/payments/sa/deployer',
      );
      expect(matchClaims(m, await v.verify(ok))).toEqual({ ok: true });
      const sibling = await f.spiffe.mintSpiffe(
        f.clock.now(),
        AUDIENCE,
        'spiffe://prod.acme/ns/payments-evil/sa/x',
      );
      expect(matchClaims(m, await v.verify(sibling))).toEqual({ ok: false, claim: 'sub' });
      expect(() => spiffeMatcher({ issuer: ISS, spiffeId: { pattern: '**' } })).toThrow();
    });
  });
});
