/** RFC 9457 problem details as the server answers them (src/http/problem.ts). */
import { isObj } from './unknown.js';

export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
}

/** A problem from any answer body; fields that are missing or not text are filled in. */
export function toProblem(status: number, body: unknown): Problem {
  const s = (k: string): string | null =>
    isObj(body) && typeof body[k] === 'string' ? body[k] : null;
  return {
    status,
    code: s('code') ?? `HTTP_${status}`,
    title: s('title') ?? (status === 0 ? 'Network error' : `HTTP ${status}`),
    detail: s('detail') ?? '',
  };
}

export class ProblemError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(`${problem.code}: ${problem.detail || problem.title}`);
    this.name = 'ProblemError';
    this.problem = problem;
  }
}

export function problemOf(err: unknown): Problem {
  if (err instanceof ProblemError) return err.problem;
  return toProblem(0, { detail: err instanceof Error ? err.message : String(err) });
}
