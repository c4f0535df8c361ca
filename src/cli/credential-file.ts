import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError, EXIT } from './errors.js';

const errno = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? 'failed';

/**
 * The file `redeem --credential-out` writes a brokered credential to: `NAME='value'`
 * lines for a shell (`set -a; . ./file`) or `env` to read.
 *
 * The credential is written to a new file beside the target, made before anything is
 * redeemed (`O_CREAT | O_EXCL | O_NOFOLLOW`, mode 0600), then renamed over the target:
 * - a path that cannot be written fails first, as a usage error, and no use is spent
 *   (the answer that carries the credential is the only copy there will ever be);
 * - the credential is never in a file another user can read, not even for a moment, and
 *   an existing file or symlink at the target is replaced, never written through;
 * - a reader of the target sees the old file or the whole new one.
 * A run killed while redeeming leaves the new file behind, empty.
 */
export class CredentialFile {
  #fd: number | null;

  private constructor(
    readonly target: string,
    readonly staged: string,
    fd: number,
  ) {
    this.#fd = fd;
  }

  /** Makes the new file, or refuses the target with exit 2 (naming it and why). */
  static prepare(target: string): CredentialFile {
    const refuse = (why: string) =>
      new CliError(`cannot write --credential-out ${target}: ${why}`, EXIT.usage);
    let existing;
    try {
      existing = lstatSync(target);
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw refuse(errno(e));
    }
    if (existing !== undefined && !existing.isFile() && !existing.isSymbolicLink()) {
      throw refuse('not a regular file');
    }
    const staged = join(
      dirname(target),
      `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    try {
      return new CredentialFile(target, staged, openSync(staged, flags, 0o600));
    } catch (e) {
      throw refuse(errno(e));
    }
  }

  /**
   * Writes the credential and puts it in place. Past the redemption, a failure is exit 1;
   * a credential that could not be renamed into place stays in the new file, and the
   * error says where, since it will not be shown again.
   */
  write(credential: Readonly<Record<string, string>>): void {
    const quote = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;
    const text = Object.entries(credential)
      .map(([k, v]) => `${k}=${quote(v)}\n`)
      .join('');
    const fd = this.#fd;
    if (fd === null) throw new Error('the credential file was written or discarded already');
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } catch (e) {
      this.discard();
      throw new CliError(
        `cannot write the credential to ${this.target}: ${errno(e)}; it was not saved`,
        EXIT.server,
      );
    }
    closeSync(fd);
    this.#fd = null;
    try {
      renameSync(this.staged, this.target);
    } catch (e) {
      throw new CliError(
        `cannot move the credential to ${this.target}: ${errno(e)}; it is in ${this.staged}`,
        EXIT.server,
      );
    }
  }

  /** Removes the new file: nothing was minted, or the redemption did not happen. */
  discard(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    try {
      unlinkSync(this.staged);
    } catch {
      // Gone already: there is nothing left to remove.
    }
  }
}
