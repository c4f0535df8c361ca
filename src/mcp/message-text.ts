import { CountersignError } from '../core/errors.js';
import { parseStrictJson } from '../core/json.js';

/** JSON-RPC 2.0 §5.1: the text is not JSON the gateway can read one way. */
export const PARSE_ERROR = -32700;

/** Why a duplicate key is a parse error: the message the gateway answers with. */
export const DUPLICATE_KEY_MESSAGE = 'Parse error: a key occurs twice in one object';

/**
 * A message's JSON text, read as the agent's host must have meant it. `JSON.parse` keeps
 * the last of two equal keys and other parsers the first, so a tool call whose arguments
 * name a table twice could be gated as one call and run upstream as another: a duplicate
 * key is refused (`DuplicateKeyError`). What else the strict parser refuses (a lone
 * surrogate, a number beyond a double) is read as `JSON.parse` reads it, and refused
 * later, where the call's arguments are checked, as invalid params.
 */
export function parseMessageText(text: string): unknown {
  try {
    return parseStrictJson(text);
  } catch (e) {
    if (e instanceof CountersignError && e.code === 'DUPLICATE_JSON_KEY') {
      throw new DuplicateKeyError();
    }
    return JSON.parse(text) as unknown;
  }
}

export class DuplicateKeyError extends Error {
  constructor() {
    super(DUPLICATE_KEY_MESSAGE);
    this.name = 'DuplicateKeyError';
  }
}
