import type pg from 'pg';
import { eventColumns } from '../kysely/log.js';
import type { SpentUse, UseSpend } from '../../service/ports/spend.js';

/**
 * `Store.spendUse` in one statement (decision 0025). The conditional UPDATE is the
 * single-use guarantee, as `consumeUse` states it, plus the row's own conditions;
 * every other part reads its rows, so a row that admits no use writes nothing. The
 * leaf gets its use number by `replace` and its RFC 6962 hash, SHA-256(0x00 || leaf),
 * from PostgreSQL's `sha256`; `test/store/spend-use` checks both equal what
 * `encodeEvent` computes. The exhausted event selects from the allowed one, so its
 * id (and its leaf) comes after it.
 */
const SPEND_USE = `
with spent as (
  update warrants set uses = uses + 1
  where id = $1::text and request_id = $2::text and state = 'active'
    and uses < max_uses and uses < $3::int
    and (not_before is null or not_before::timestamptz <= $4::text::timestamptz)
    and (not_after is null or not_after::timestamptz > $4::text::timestamptz)
  returning uses
), filled as (
  select uses, replace($5::text, $6::text, uses::text) as leaf from spent
), allowed as (
  insert into events (type, at, actor, request_id, warrant_id, nhi_id, leaf, leaf_hash, leaf_index)
  select $7::text, $8::text, $9::text, $10::text, $11::text, $12::text, filled.leaf,
    encode(sha256('\\x00'::bytea || convert_to(filled.leaf, 'UTF8')), 'hex'), null
  from filled
  returning id
), redemption as (
  insert into redemptions
    (id, warrant_id, outcome, code, use_number, executor, action, at, event_id, idempotency_key)
  select $13::text, $1::text, 'allow', null, filled.uses, $14::text, $15::text, $4::text,
    allowed.id, null
  from filled, allowed
), closed as (
  update requests set state = 'exhausted', updated_at = $4::text
  where id = $2::text and state = 'approved' and exists (select 1 from spent where uses = $3::int)
), exhausted as (
  insert into events (type, at, actor, request_id, warrant_id, nhi_id, leaf, leaf_hash, leaf_index)
  select $16::text, $17::text, $18::text, $19::text, $20::text, $21::text, $22::text,
    $23::text, null
  from spent, allowed
  where spent.uses = $3::int
)
select filled.uses, allowed.id from filled, allowed`;

export async function spendUseStatement(
  client: pg.ClientBase,
  spend: UseSpend,
): Promise<SpentUse | null> {
  // The allowed event's columns other than its leaf do not depend on the use number.
  const a = eventColumns({ event: spend.allowed.build(0), leaf: '', leafHash: '' });
  const x = eventColumns(spend.exhausted());
  const result = await client.query<{ uses: number; id: number }>({
    name: 'countersign.spend_use',
    text: SPEND_USE,
    values: [
      spend.warrantId,
      spend.requestId,
      spend.signedMaxUses,
      spend.at,
      spend.allowed.leaf,
      spend.allowed.hole,
      a.type,
      a.at,
      a.actor,
      a.request_id,
      a.warrant_id,
      a.nhi_id,
      spend.redemption.id,
      spend.redemption.executor,
      JSON.stringify(spend.redemption.action),
      x.type,
      x.at,
      x.actor,
      x.request_id,
      x.warrant_id,
      x.nhi_id,
      x.leaf,
      x.leaf_hash,
    ],
  });
  const row = result.rows[0];
  return row ? { use: Number(row.uses), eventId: Number(row.id) } : null;
}
