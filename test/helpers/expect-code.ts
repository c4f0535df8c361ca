import { expect } from 'vitest';
import { CountersignError } from '../../src/core/errors.js';

/** An error class to expect, such as `LogError`. */
type ErrorClass<E> = abstract new (...args: never[]) => E;

/** Expects `caught` to be an instance of `type` with `code`, and returns it. */
function expectCaught<E extends CountersignError>(
  caught: unknown,
  code: string,
  type: ErrorClass<CountersignError>,
): E {
  expect(caught, `expected ${code} to be thrown`).toBeInstanceOf(type);
  const err = caught as E;
  expect(err.code).toBe(code);
  return err;
}

/**
 * Runs `fn`, expects a CountersignError (or, given `type`, an error of that class)
 * with `code`, and returns it for further checks.
 */
export function expectCode<E extends CountersignError = CountersignError>(
  fn: () => unknown,
  code: string,
  type?: ErrorClass<E>,
): E {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  return expectCaught<E>(caught, code, type ?? CountersignError);
}

/** Like {@link expectCode} for async functions. */
export async function expectCodeAsync<E extends CountersignError = CountersignError>(
  fn: () => Promise<unknown>,
  code: string,
  type?: ErrorClass<E>,
): Promise<E> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  return expectCaught<E>(caught, code, type ?? CountersignError);
}

/** The rejection of `p`, which must reject. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
