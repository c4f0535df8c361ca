import { CountersignError } from '../core/errors.js';
import type { NhiId } from '../core/ids.js';
import type { Principal } from '../identity/principal.js';
import { assertNhiId, type Nhi, type NhiErrorCode, type NhiKind } from '../nhi/nhi.js';
import { record, type ServiceContext } from './context.js';

export interface RegisterNhiInput {
  readonly id: string;
  readonly kind: NhiKind;
  readonly owner: string;
  readonly description?: string;
}

export async function registerNhi(
  ctx: ServiceContext,
  actor: Principal,
  input: RegisterNhiInput,
): Promise<Nhi> {
  assertNhiId(input.id);
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
    if (await tx.getNhi(nhi.id)) {
      throw new CountersignError<NhiErrorCode>('NHI_EXISTS', `NHI ${nhi.id} is already registered`);
    }
    await tx.insertNhi(nhi);
    await record(tx, 'nhi.registered', now, actor.id, { nhi: nhi.id }, { nhi });
    return nhi;
  });
}

export async function getNhi(ctx: ServiceContext, id: string): Promise<Nhi> {
  const nhi = await ctx.store.getNhi(id as NhiId);
  if (!nhi) throw new CountersignError<NhiErrorCode>('NHI_UNKNOWN', `no NHI ${id.slice(0, 200)}`);
  return nhi;
}
