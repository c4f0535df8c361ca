import { describe, expect, it } from 'vitest';
import { sqlitePlan } from '../helpers/sqlite-plan.js';

describe('the look-up of a warrant’s issuing event', () => {
  it('walks the partial index of issuing events, not the whole log', async () => {
    // The statement evidence.ts builds for role 'warrants', as Kysely compiles it.
    const plan = await sqlitePlan(
      `select "warrant_id" as "id", "leaf_index" as "leaf" from "events"
       where "type" = 'warrant.issued' and "warrant_id" in (?, ?)`,
      ['wrt_a', 'wrt_b'],
    );
    expect(plan).toContain('events_warrant_issued');
  });
});
