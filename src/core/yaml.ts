import { parse, YAMLError } from 'yaml';

/**
 * A YAML document that could not be read, said by its kind and place alone. The yaml
 * library's own messages print the lines around the fault, and a config file's lines
 * may hold a secret (a database URL with its password).
 */
export class YamlTextError extends Error {
  constructor(
    readonly kind: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`not valid YAML (${kind}) at line ${line}, column ${column}`);
    this.name = 'YamlTextError';
  }
}

/**
 * Parses YAML (or the JSON it also reads) from a file an operator wrote: a key twice in
 * one map is refused, and nothing is printed. The library would otherwise write its
 * warnings (an unknown tag such as `!env`) to stderr with the line that has it.
 */
export function parseYamlText(text: string): unknown {
  try {
    return parse(text, { uniqueKeys: true, prettyErrors: false, logLevel: 'error' }) as unknown;
  } catch (e) {
    if (!(e instanceof YAMLError)) throw e;
    const at = e.pos[0];
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    throw new YamlTextError(e.code, line, at - before.lastIndexOf('\n'));
  }
}
