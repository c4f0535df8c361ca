import { describe, expect, it } from 'vitest';
import { redactedPath, redactedText } from '../../src/http/log-redact.js';

const TOKEN = 'cs_0123456789abcdefghij';
const JWS = 'eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJ3In0.c2lnbmF0dXJlLWJ5dGVz';

describe('redactedText', () => {
  it('replaces a token or a JWS, encoded or not, and nothing else', () => {
    expect(redactedText(`no NHI ${TOKEN}`)).toBe('no NHI [redacted]');
    expect(redactedText(`no NHI ${TOKEN.replace('_', '%5F')}`)).toBe('no NHI [redacted]');
    expect(redactedText(`warrant ${JWS.replaceAll('.', '%252E')} refused`)).toBe(
      'warrant [redacted] refused',
    );
    expect(redactedText(`no NHI x${TOKEN}`)).toBe('no NHI [redacted]');
    const plain = 'redemptions went up; 100% of calls';
    expect(redactedText(plain)).toBe(plain);
  });
});

describe('redactedPath', () => {
  it('replaces the segment that holds a credential and drops the query', () => {
    expect(redactedPath(`/v1/nhis/${TOKEN}?a=b`)).toBe('/v1/nhis/[redacted]');
    expect(redactedPath(`/x/${JWS.replaceAll('.', '%2E')}/y`)).toBe('/x/[redacted]/y');
    expect(redactedPath(`/x/${JWS.replaceAll('.', '%2E')}%ZZ`)).toBe('/x/[redacted]');
    expect(redactedPath(`/v1/nhis/${TOKEN.replace('_', '%252525255F')}`)).toBe(
      '/v1/nhis/[redacted]',
    );
    expect(redactedPath('/v1/requests/sha256%3Aab')).toBe('/v1/requests/sha256%3Aab');
    expect(redactedPath('/v1/nhis/%E0%A4%A')).toBe('/v1/nhis/%E0%A4%A');
  });
});
