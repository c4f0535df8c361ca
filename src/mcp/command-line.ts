import { McpGatewayError } from './errors.js';

/**
 * Splits `--upstream-cmd "node server.js --db 'my orders'"` into an argument vector
 * the way a POSIX shell would for words and quotes, and no further: no variables, no
 * globs, no operators. The upstream is spawned without a shell, so what the user wrote
 * is exactly what runs. `-- CMD ARGS…` needs none of this.
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string)) {
        word += line[++i] as string;
      } else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + (line[++i] as string);
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote !== undefined) {
    throw new McpGatewayError('UPSTREAM_COMMAND_INVALID', `unterminated ${quote} quote`);
  }
  if (word !== undefined) words.push(word);
  if (words.length === 0) {
    throw new McpGatewayError('UPSTREAM_COMMAND_INVALID', 'the upstream command is empty');
  }
  return words;
}
