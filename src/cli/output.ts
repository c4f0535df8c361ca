/** Prints machine output (--json) or the human rendering. */
export function emit(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
}
