/**
 * The environment of a process countersign starts on someone's behalf (`exec`'s command,
 * the MCP gateway's upstream), and which variables a brokered credential may set in it.
 */

/**
 * An environment variable name a shell takes as it is: `--credential-out` writes
 * `NAME='value'` lines, quoting the value but not the name. (A pattern string, for JSON
 * Schema as well as `RegExp`.)
 */
export const VARIABLE_NAME = '^[A-Za-z_][A-Za-z0-9_]{0,127}$';

/** countersign's own variables: its address, and the bearer token that spends uses. */
const COUNTERSIGN = /^COUNTERSIGN_/i;

/**
 * `env` less countersign's variables. The host configures its environment for the child
 * (a database URL, API keys), but countersign's token is for countersign alone: a child
 * holding it could redeem the executor's warrants itself.
 */
export function withoutCountersignVariables(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !COUNTERSIGN.test(name)) out[name] = value;
  }
  return out;
}

/**
 * Names a credential may not set. A credential comes from a connector (for a webhook, a
 * receiver on another host), and lands in the environment of a command on the executor's
 * host, or in a `--credential-out` file a shell sources. A name on this list would let
 * the connector choose what that command runs or loads, not only what it logs in with:
 *
 * - where programs, libraries and start-up files are looked up: `PATH`, `CDPATH`, `HOME`
 *   and `XDG_*` (dotfiles and config such as git's `core.pager`), `TMPDIR`, `SHELL`;
 * - code a shell runs on its own: `ENV` and `BASH_ENV` (expanded, so `$(cmd)` runs),
 *   `BASH_*` (exported functions are `BASH_FUNC_name%%`), `PS4`, `PROMPT_COMMAND`,
 *   `SHELLOPTS`, `BASHOPTS`, `IFS` (re-splits every unquoted expansion);
 * - the dynamic loader and libc: `LD_*`, `DYLD_*`, `GCONV_PATH`, `LOCPATH`, `NLSPATH`,
 *   `HOSTALIASES`;
 * - interpreters' options and module paths: `NODE_*` (`NODE_OPTIONS=--require`),
 *   `PYTHON*`, `PERL5*`, `PERLLIB`, `RUBYOPT`, `RUBYLIB`, `JAVA_TOOL_OPTIONS`,
 *   `_JAVA_OPTIONS`, `JDK_JAVA_OPTIONS`, `CLASSPATH`, `OPENSSL_*` (config loads engines);
 * - programs other programs start: `GIT_*` (`GIT_SSH_COMMAND`, `GIT_EXEC_PATH`),
 *   `EDITOR`, `VISUAL`, `PAGER`, `LESSOPEN`, `LESSCLOSE`, `SSH_ASKPASS`;
 * - where traffic goes: the `*_PROXY` variables, which would route the command's
 *   connections (and the other secrets it sends) through the connector's choice;
 * - countersign's own: `COUNTERSIGN_*` (its token, and the receipts exec sets).
 *
 * Environment names are case-sensitive on POSIX but not on Windows, and some programs
 * read lower-case forms (`http_proxy`), so the names are compared in upper case.
 */
const EXACT = new Set([
  'PATH',
  'CDPATH',
  'HOME',
  'TMPDIR',
  'SHELL',
  'ENV',
  'IFS',
  'PS4',
  'PROMPT_COMMAND',
  'SHELLOPTS',
  'BASHOPTS',
  'GCONV_PATH',
  'LOCPATH',
  'NLSPATH',
  'HOSTALIASES',
  'PERLLIB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'LESSOPEN',
  'LESSCLOSE',
  'SSH_ASKPASS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'FTP_PROXY',
]);
const PREFIXES = [
  'COUNTERSIGN_',
  'BASH_',
  'LD_',
  'DYLD_',
  'XDG_',
  'NODE_',
  'PYTHON',
  'PERL5',
  'OPENSSL_',
  'GIT_',
];

/** Whether a credential may not set the variable `name` (see above for why). */
export function isReservedVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return EXACT.has(upper) || PREFIXES.some((p) => upper.startsWith(p));
}

/** The names among `names` a credential may not set, in their order. */
export const reservedVariables = (names: Iterable<string>): string[] =>
  [...names].filter(isReservedVariable);
