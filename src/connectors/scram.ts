import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * The SCRAM-SHA-256 secret PostgreSQL stores for a password (RFC 5802 §3, RFC 7677),
 * in PostgreSQL's text form `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
 *
 * Why: `CREATE ROLE … PASSWORD '<secret in this form>'` stores it as it is, so the
 * plaintext never reaches the server, where `log_statement`, a failing statement's log
 * line or pg_stat_statements would keep it. This is what psql's `\password` does
 * (libpq's PQencryptPasswordConn).
 *
 * The password must already be SASLprep-normalised (RFC 4013); the connector's
 * passwords are base64url, printable ASCII, which SASLprep leaves unchanged. The key
 * derivation runs on libuv's thread pool: 4,096 rounds would hold the event loop ~1 ms.
 */
export async function scramSha256Secret(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = 4096, // PostgreSQL's default scram_iterations
): Promise<string> {
  const salted = await pbkdf2Async(password, salt, iterations, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  const b64 = (b: Buffer) => b.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}
