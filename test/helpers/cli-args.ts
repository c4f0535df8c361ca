/**
 * Command-line flags in their order: a string gives `--name value`, a list repeats the
 * flag once per value, and `undefined` leaves the flag out (to remove a default).
 */
export type Flags = Readonly<Record<string, string | readonly string[] | undefined>>;

export function flags(f: Flags): string[] {
  return Object.entries(f).flatMap(([name, value]) =>
    (value === undefined ? [] : typeof value === 'string' ? [value] : value).flatMap((v) => [
      `--${name}`,
      v,
    ]),
  );
}

/** `redeem` arguments for a warrant: db/orders read in staging unless `over` says otherwise. */
export const redeemArgs = (warrant: string, over: Flags = {}): string[] => [
  'redeem',
  '--warrant',
  warrant,
  ...flags({ resource: 'db/orders', permission: 'read', env: 'staging', ...over }),
];

const REQUEST_DEFAULTS: Flags = {
  action: 'grant',
  scope: 'db/orders=read',
  env: 'staging',
  executor: 'deploy-eu',
  duration: '1h',
  reason: 'test',
};

/**
 * `request create` arguments for `subject`: a one-hour staging grant of db/orders read,
 * executed by deploy-eu, unless `over` says otherwise.
 */
export const requestCreateArgs = (subject: string, over: Flags = {}): string[] => [
  'request',
  'create',
  ...flags({ subject, ...REQUEST_DEFAULTS, ...over }),
];
