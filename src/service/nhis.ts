import { CountersignError } from '../core/errors.js';
import type { NhiId } from '../core/ids.js';
import { hasRole, type IdentityErrorCode, type Principal } from '../identity/principal.js';
import { nhiKey } from '../nhi/key.js';
import { type Nhi, type NhiErrorCode } from '../nhi/nhi.js';
import { assertNhiId, type NhiKind } from '../core/vocabulary.js';
import type { NhiReader } from './ports/nhis.js';
import { screenFreeText } from '../core/secrets.js';
import { record, type ServiceContext } from './context.js';

export interface RegisterNhiInput {
  readonly id: string;
  readonly kind: NhiKind;
  readonly owner: string;
  readonly description?: string;
}

export interface ChangeOwnerInput {
  readonly owner: string;
  readonly reason: string;
}

/**
 * The NHI an id names: the one registered under exactly that id, else the one whose
 * comparison key it shares (`svc:BOBOWNED` finds `svc:bobowned`). Callers carry the
 * registered id on from here, never the spelling they were given.
 */
export async function findNhi(tx: { readonly nhis: NhiReader }, id: string): Promise<Nhi | null> {
  return (await tx.nhis.get(id as NhiId)) ?? (await tx.nhis.getByKey(nhiKey(id)));
}

/**
 * Owner groups hold the NHI: an admin may act for any owner, anyone else only for an
 * owner that is one of their own groups.
 */
function assertActsFor(actor: Principal, owner: string, what: string): void {
  if (hasRole(actor, 'admin') || actor.groups.includes(owner)) return;
  throw new CountersignError<IdentityErrorCode>(
    'FORBIDDEN',
    `only an admin or a member of group ${owner} may ${what}`,
  );
}

/**
 * Registers an NHI. Refused when the id is taken (`NHI_EXISTS`) or differs from a
 * registered id only by case or a confusable character (`NHI_CONFUSABLE`); the unique
 * key column refuses the same to a node that checked concurrently.
 */
export async function registerNhi(
  ctx: ServiceContext,
  actor: Principal,
  input: RegisterNhiInput,
): Promise<Nhi> {
  screenFreeText({ description: input.description });
  assertNhiId(input.id);
  assertActsFor(actor, input.owner, `register an NHI owned by ${input.owner}`);
  const now = ctx.clock.now();
  const nhi: Nhi = {
    id: input.id,
    kind: input.kind,
    owner: input.owner,
    description: input.description ?? null,
    createdAt: now.toISOString(),
    createdBy: actor.id,
  };
  return ctx.store.transaction(async (tx) => {
    if (await tx.nhis.get(nhi.id)) {
      throw new CountersignError<NhiErrorCode>('NHI_EXISTS', `NHI ${nhi.id} is already registered`);
    }
    const twin = await tx.nhis.getByKey(nhiKey(nhi.id));
    if (twin) {
      throw new CountersignError<NhiErrorCode>(
        'NHI_CONFUSABLE',
        `NHI ${nhi.id} differs from the registered ${twin.id} only by case or a confusable character`,
        { details: { existing: twin.id } },
      );
    }
    await tx.nhis.insert(nhi);
    await record(tx, 'nhi.registered', now, actor.id, { nhi: nhi.id }, { nhi });
    return nhi;
  });
}

/**
 * Hands an NHI to another owner: an admin, or a member of both the current and the new
 * owner group, as registering it for the new owner would need. Otherwise a member could
 * hand it to a group of no one and then approve its requests, which the policy's
 * `excludeOwner` refuses to owners. Requests already created keep the owner pinned in
 * their body.
 */
export async function changeNhiOwner(
  ctx: ServiceContext,
  actor: Principal,
  id: string,
  input: ChangeOwnerInput,
): Promise<Nhi> {
  screenFreeText({ reason: input.reason });
  const now = ctx.clock.now();
  return ctx.store.transaction(async (tx) => {
    // The update is conditional on the owner read: on PostgreSQL a concurrent change
    // makes it miss, and the next pass reads (and authorizes against) the new owner.
    for (;;) {
      const nhi = await findNhi(tx, id);
      if (!nhi) throw unknownNhi(id);
      assertActsFor(actor, nhi.owner, `change the owner of ${nhi.id}`);
      if (nhi.owner === input.owner) return nhi;
      assertActsFor(actor, input.owner, `hand ${nhi.id} to ${input.owner}`);
      if (await tx.nhis.setOwner(nhi.id, nhi.owner, input.owner)) {
        const data = { from: nhi.owner, to: input.owner, reason: input.reason };
        await record(tx, 'nhi.owner_changed', now, actor.id, { nhi: nhi.id }, data);
        return { ...nhi, owner: input.owner };
      }
    }
  });
}

export async function getNhi(ctx: ServiceContext, id: string): Promise<Nhi> {
  const nhi = await findNhi(ctx.store.read, id);
  if (!nhi) throw unknownNhi(id);
  return nhi;
}

function unknownNhi(id: string): CountersignError<NhiErrorCode> {
  return new CountersignError('NHI_UNKNOWN', `no NHI ${id.slice(0, 200)}`);
}
