import { describe, expect, it } from 'vitest';
import { newApiToken } from '../../src/identity/api-tokens.js';
import { redactUsageError } from '../../src/cli/usage-errors.js';
import { runCli } from '../helpers/server.js';

const WARRANT = 'eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJ3cnRfMSJ9.c2lnbmF0dXJlLWJ5dGVz';

describe('redactUsageError', () => {
  it("keeps an unknown option's name and drops its value", () => {
    expect(redactUsageError(`error: unknown option '--warrnt=${WARRANT}'\n`)).toBe(
      "error: unknown option '--warrnt=…'\n",
    );
  });

  it('takes out a warrant, an API token or a long secret given as a command or argument', () => {
    const token = newApiToken().token;
    for (const typed of [WARRANT, token, 'A'.repeat(48)]) {
      const out = redactUsageError(`error: unknown command '${typed}'\n`);
      expect(out).toBe("error: unknown command '[redacted]'\n");
    }
  });

  it('leaves a message with nothing token-shaped as it was', () => {
    for (const text of [
      "error: unknown option '--hots'\n",
      "error: too many arguments for 'show'. Expected 1 argument but got 3.\n",
      "error: option '--addr <url>' argument 'https://countersign.example.com/v1' is invalid.\n",
    ]) {
      expect(redactUsageError(text)).toBe(text);
    }
  });
});

describe('the countersign CLI', () => {
  describe('when a warrant is pasted after a mistyped option', () => {
    it('says which option it does not know, exits 2, and never prints the warrant', async () => {
      const out = await runCli(['findings', `--warrnt=${WARRANT}`], {});
      expect(out.code).toBe(2);
      expect(out.stderr).toContain("unknown option '--warrnt=…'");
      expect(out.stderr + out.stdout).not.toContain('eyJ');
    });
  });

  describe('when the bundle to verify is not there', () => {
    it('says it cannot read it and exits 2, as for a missing trust file', async () => {
      const out = await runCli(
        ['evidence', 'verify', '/nonexistent/bundle.json', '--trust-embedded'],
        {},
      );
      expect([out.code, out.stderr.trim()]).toEqual([
        2,
        'error: cannot read the bundle /nonexistent/bundle.json',
      ]);
    });
  });
});
