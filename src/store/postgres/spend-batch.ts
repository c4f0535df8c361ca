import type pg from 'pg';
import { eventColumns } from '../kysely/log.js';
import type { SpentUse, UseSpend } from '../../service/ports/spend.js';

/**
 * `Store.spendUse` on PostgreSQL: one statement for a batch of spends (decision 0025 for
 * one, 0027 for many), so that a node under load commits once per batch, not once per
 * redemption, and a warrant redeemed by many executors at once gives several uses per
 * commit instead of one. A lone spend is a batch of one.
 *
 * The use number is known only once the row is locked, and the event's leaf contains it:
 * the service builds the canonical leaf once with a marker in its place, and the
 * statement fills it with `replace`. The leaf's RFC 6962 hash, SHA-256(0x00 || leaf), is
 * PostgreSQL's `sha256`; `test/store/spend-use` checks both equal what `encodeEvent`
 * computes. Each exhausted event joins its allowed one's `RETURNING`, so its id comes after.
 *
 * Each warrant of the batch is locked first, in id order (two batches sharing warrants
 * wait for each other instead of deadlocking); `FOR UPDATE` at READ COMMITTED returns the
 * row's latest committed version, which no one else can change until this commits. Each
 * spend is checked against it: the request the signed claims name, `active`, the exact
 * window at the spend's own instant, and a signing key no node has revoked.
 * The spends of one warrant that pass are numbered in batch order, and the first ones
 * get the uses left under both the row's and the signed `max_uses`: use `uses + r` for
 * the r-th. The rest get none and take the full path, as a lone spend would. The signed
 * bound is the lowest of the warrant's spends in the batch, so the uses given are always
 * the next ones, without a gap; `SpendQueue` sends only spends of one warrant that carry
 * the same request and signed `max_uses` together.
 */
const SPEND_USES = `
with input as (
  select * from json_to_recordset($1::json) as i(
    n int, warrant_id text, request_id text, max_uses int, at text, leaf text, hole text,
    type text, ev_at text, actor text, ev_request text, ev_warrant text, ev_nhi text,
    redemption text, executor text, action text,
    x_type text, x_at text, x_actor text, x_request text, x_warrant text, x_nhi text,
    x_leaf text, x_hash text)
), locked as (
  select id, kid, request_id, state, uses, max_uses, not_before, not_after from warrants
  where id in (select warrant_id from input) order by id for update
), ranked as (
  select i.*, l.uses as old, l.max_uses as row_max,
    row_number() over (partition by i.warrant_id order by i.n) as r,
    min(i.max_uses) over (partition by i.warrant_id) as cap
  from input i join locked l on l.id = i.warrant_id
  where l.request_id = i.request_id and l.state = 'active'
    and not exists (select 1 from signing_keys k where k.kid = l.kid and k.state = 'revoked')
    and (l.not_before is null or l.not_before::timestamptz <= i.at::timestamptz)
    and (l.not_after is null or l.not_after::timestamptz > i.at::timestamptz)
), filled as (
  select ranked.*, (old + r)::int as uses, replace(leaf, hole, (old + r)::text) as full_leaf
  from ranked where old + r <= row_max and old + r <= cap
), spent as (
  update warrants w set uses = g.top
  from (select warrant_id, max(uses) as top from filled group by warrant_id) g
  where w.id = g.warrant_id
), allowed as (
  insert into events (type, at, actor, request_id, warrant_id, nhi_id, leaf, leaf_hash, leaf_index)
  select type, ev_at, actor, ev_request, ev_warrant, ev_nhi, full_leaf,
    encode(sha256('\\x00'::bytea || convert_to(full_leaf, 'UTF8')), 'hex'), null
  from filled order by n
  returning id, leaf
), redemption as (
  insert into redemptions
    (id, warrant_id, outcome, code, use_number, executor, action, at, event_id, idempotency_key)
  select f.redemption, f.warrant_id, 'allow', null, f.uses, f.executor, f.action, f.at, a.id, null
  from filled f join allowed a on a.leaf = f.full_leaf
), closed as (
  update requests r set state = 'exhausted', updated_at = f.at
  from filled f
  where r.id = f.request_id and r.state = 'approved' and f.uses = f.max_uses
), exhausted as (
  insert into events (type, at, actor, request_id, warrant_id, nhi_id, leaf, leaf_hash, leaf_index)
  select f.x_type, f.x_at, f.x_actor, f.x_request, f.x_warrant, f.x_nhi, f.x_leaf, f.x_hash, null
  from filled f join allowed a on a.leaf = f.full_leaf
  where f.uses = f.max_uses
)
select f.n, f.uses, a.id from filled f join allowed a on a.leaf = f.full_leaf`;

/** Spends `spends` in one statement: each one's use and event, or null where it got none. */
export async function spendUsesStatement(
  client: pg.ClientBase,
  spends: readonly UseSpend[],
): Promise<(SpentUse | null)[]> {
  const rows = spends.map((s, n) => {
    const a = eventColumns({ event: s.allowed.build(0), leaf: '', leafHash: '' });
    const x = eventColumns(s.exhausted());
    return {
      n,
      warrant_id: s.warrantId,
      request_id: s.requestId,
      max_uses: s.signedMaxUses,
      at: s.at,
      leaf: s.allowed.leaf,
      hole: s.allowed.hole,
      type: a.type,
      ev_at: a.at,
      actor: a.actor,
      ev_request: a.request_id,
      ev_warrant: a.warrant_id,
      ev_nhi: a.nhi_id,
      redemption: s.redemption.id,
      executor: s.redemption.executor,
      action: JSON.stringify(s.redemption.action),
      x_type: x.type,
      x_at: x.at,
      x_actor: x.actor,
      x_request: x.request_id,
      x_warrant: x.warrant_id,
      x_nhi: x.nhi_id,
      x_leaf: x.leaf,
      x_hash: x.leaf_hash,
    };
  });
  const result = await client.query<{ n: number; uses: number; id: number }>({
    name: 'countersign.spend_uses',
    text: SPEND_USES,
    values: [JSON.stringify(rows)],
  });
  const out: (SpentUse | null)[] = spends.map(() => null);
  for (const r of result.rows) out[Number(r.n)] = { use: Number(r.uses), eventId: Number(r.id) };
  return out;
}
