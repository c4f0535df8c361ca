import { expect } from 'vitest';
import { CountersignError } from '../../src/core/errors.js';

/** Expects `caught` to be a CountersignError with `code`, and returns it. */
function expectCaught(caught: unknown, code: string): CountersignError {
  expect(caught, `expected ${code} to be thrown`).toBeInstanceOf(CountersignError);
  const err = caught as CountersignError;
  expect(err.code).toBe(code);
  return err;
}

/** Runs `fn`, expects a CountersignError with `code`, and returns it for further checks. */
export function expectCode(fn: () => unknown, code: string): CountersignError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  return expectCaught(caught, code);
}

/** Like {@link expectCode} for async functions. */
export async function expectCodeAsync(
  fn: () => Promise<unknown>,
  code: string,
): Promise<CountersignError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  return expectCaught(caught, code);
}
