/**
 * What commander writes for a usage error, with what was typed that may be a secret taken
 * out: it quotes an unknown option with its value (`--warrnt=eyJ…`, a warrant pasted after
 * a typo) and an unknown command or argument as given. The option's name stays, so the
 * typo is still plain; a value, and anything shaped like a token, does not.
 */
export function redactUsageError(text: string): string {
  return text
    .replace(/'(--?[A-Za-z0-9][A-Za-z0-9-]*)=[^']*'/g, "'$1=…'")
    .replace(TOKEN_SHAPED, '[redacted]');
}

/**
 * A compact JWS or JWT (its header is base64url JSON, so it starts `eyJ`), an API token
 * (`cs_…`), or a long unbroken run of base64url such as a secret.
 */
const TOKEN_SHAPED =
  /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_.-]*|\bcs_[A-Za-z0-9_-]{8,}|[A-Za-z0-9_-]{40,}/g;
