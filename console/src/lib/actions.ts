/**
 * The request actions (src/core/vocabulary.ts REQUEST_ACTIONS), copied so the browser
 * bundle does not pull in the server's schema builder; the compiler and a test keep
 * the copy equal to the original.
 */
import type { RequestAction } from '../../../src/core/vocabulary.js';

export const ACTIONS = [
  'grant',
  'rotate',
  'revoke',
  'retrieve_secret',
  'custom',
  'tool_call',
] as const satisfies readonly RequestAction[];
export type Action = (typeof ACTIONS)[number];
// Every action is listed: this fails to compile when the server adds one.
const _all: readonly Action[] = [] as RequestAction[];
void _all;
