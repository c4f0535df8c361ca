import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, platform, release } from 'node:os';
import { brokerBenchmarks } from './broker.js';
import { decisionBenchmarks } from './decision.js';
import { evidenceBenchmarks } from './evidence.js';
import { logBenchmarks } from './log.js';
import { mcpBenchmarks } from './mcp.js';
import { reconcileBenchmarks } from './reconcile.js';
import { reconcileLoadBenchmarks } from './reconcile-load.js';
import { reconcileStoreBenchmarks } from './reconcile-store.js';
import { redeemColdBenchmarks } from './redeem-cold.js';
import { postgresBenchmarks } from './postgres.js';
import { redeemBenchmarks } from './redeem.js';
import { progress, type Figure } from './util.js';
import { postgresBinDir } from '../test/helpers/postgres.js';

interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  readonly date: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  readonly loadAtStart: number;
}

function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${platform()} ${release()}`,
    date: new Date().toISOString(),
    loadAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

function verdict(f: Figure): string {
  if (!f.goal) return '';
  const met = f.goal.higherIsBetter ? f.value >= f.goal.target : f.value <= f.goal.target;
  return `${met ? 'met' : 'MISSED'} (goal ${f.goal.text})`;
}

/** Whether the figure `key` has a goal and met it in this run. */
function metIn(figures: readonly Figure[], key: string): boolean {
  const f = figures.find((x) => x.key === key);
  return f !== undefined && verdict(f).startsWith('met');
}

/** The figure `key` of this run as the table shows it, or a dash when its suite did not run. */
function valueIn(figures: readonly Figure[], key: string): string {
  const f = figures.find((x) => x.key === key);
  return f === undefined ? '–' : f.value.toLocaleString('en-US');
}

function markdown(
  m: Machine,
  figures: readonly Figure[],
  command: string,
  seconds: number,
): string {
  const rows = figures.map(
    (f) =>
      `| \`${f.key}\` | ${f.label} | ${f.value.toLocaleString('en-US')} ${f.unit} | ${verdict(f)} |`,
  );
  return `# countersign benchmarks

Written by \`${command}\`; every figure below comes from that one run on this machine.
Do not edit the figures by hand: run the command again.

## Machine

| | |
|---|---|
| CPU | ${m.cpu} |
| cores | ${m.cores} |
| memory | ${m.memoryGiB} GiB |
| Node.js | ${m.node} |
| OS | ${m.os} |
| run at | ${m.date} |
| load average at start | ${m.loadAtStart} (on ${m.cores} cores) |
| run took | ${Math.round(seconds)} s |

## Figures

| key | what | figure | goal |
|---|---|---|---|
${rows.join('\n')}

## How to read them

- **Redemptions over HTTP** run the full path against a real server process in dev mode on a
  fresh data dir (bearer-token auth, strict JSON parsing and schema validation, the pure check,
  the atomic use-consume, the log event, the signed receipt; SQLite WAL, group commit, no answer
  before an fdatasync of the WAL), driven by autocannon with 64 connections for 10 s over 8
  many-use warrants. Each warrant's signature is verified once and then found in the key ring's
  cache of verified tokens; a load where every request brings a warrant never seen before pays
  one Ed25519 verification more per request (on the thread pool). The bare
  route is a Fastify route returning a constant, in a process of its own started once the
  countersign server has exited, measured by the same autocannon settings on the same machine:
  the ratio is what the whole redemption path costs relative to Fastify itself. Peak RSS is the server's \`VmHWM\` after the redemption run.
  Right after the load one scrape of the server's \`GET /metrics\` is taken:
  \`metrics_redemptions_vs_autocannon\` is its allowed-redemption counter minus autocannon's 2xx
  count, 0 up to the answers still in flight when autocannon stopped.

- **Cold redemptions** (\`redeem_http_cold_*\`): 12,000 single-use warrants issued through the
  API, each redeemed once (autocannon's \`amount\`, 64 connections), so every request brings a
  warrant the server has never verified; measured right after 10 s of warm redemptions (eight
  reused warrants) on the same server, and the ratio is cold ÷ warm.
- **Redemption decision** is the pure check (\`redemption/check.ts\`) in-process over 64 varied
  actions against a 10-entry scope with wildcards. Cedar answers the same question from a
  preparsed policy set (one \`permit\` per scope entry on the resource path, environment and
  target); both must agree on every action before timing starts.
- **Durable appends** are log events written through the store in transactions of 1,000 (one
  WAL fdatasync each; \`appendMany\`, which on PostgreSQL is multi-row inserts of 500 rows, the
  way a reconcile pass writes its findings' events), each batch then integrated into the Merkle
  tree with its subtree hashes and one signed checkpoint. The raw figure inserts the same rows
  with a bare prepared statement in the same batches and durability: the ratio is the cost of
  the log's bookkeeping.
- **Proof latency** is the mean time to serve one RFC 9162 inclusion proof from the store
  (random leaf, tree size = the latest checkpoint), over 5,000 proofs. Proofs read O(log n)
  stored subtree hashes, so a 1,000× larger log should cost only a few more reads.
- **Evidence verification** checks a real bundle exported by the service (a prod-style chain with
  redemptions): every inclusion proof, the checkpoint note, the warrant JWS, the DSSE envelope and
  the statement, against pinned keys.
- **Reconciliation** runs the pure reconciler in-process on generated state: 100,000 warrants
  (with fulfilments and denials) against 10k, 100k and 1M observations, about 5% of them real
  problems. Linear scaling shows as a ≈10× time ratio between 100k and 1M observations. Peak
  RSS is the bench process's high-water mark, input included.
- **Reconciliation through the store** (\`reconcile_1m_obs_s\`, \`reconcile_peak_rss_mb\`): a SQLite
  database seeded by direct inserts with 100,000 warrants and about 1M observations, each table
  in the order of its records' times, as a running server writes them, then one pass as
  \`reconcile --now\` runs it (expiries recorded, the plan read subject slice by subject slice,
  findings written) in a child process, whose high-water RSS is the figure. That first pass
  plans every subject; the pass right after it (\`reconcile_1m_obs_second_s\`) judges again the
  subjects it raised findings for (decision 0029). Then, in the same process and untimed, the
  log is integrated and 1,000 sightings arrive (the newest value of 1,000 facts, seen again),
  and the next pass a minute later (\`reconcile_1m_obs_next_s\`) plans only the subjects that
  changed; \`reconcile_1m_obs_next_full_s\` is the same state planned for every subject, right
  after.
- **PostgreSQL** figures put the same appends and redemptions on a throwaway PostgreSQL 15
  cluster, with one node and with two nodes sharing the database, beside SQLite in the same run.
- **Brokered grants** (\`broker_grant_*\`): one dev-mode server on SQLite with a PostgreSQL
  connector on a throwaway cluster (the connector's admin is a CREATEROLE role, not a
  superuser, and every login checks its password). 200 redemptions of a brokered warrant, each
  minting a login role (CREATE ROLE with password and VALID UNTIL, the grants on two tables, a
  check of what was granted), alternate one at a time over HTTP, after 20 of each as warm-up,
  with 200 of a plain warrant of the same shape that names no connector; the bench fails unless
  every brokered answer carries a credential. \`broker_grant_p50_vs_plain\` is the ratio of the
  two p50s. Starting the cluster is not measured; afterwards the warrant is revoked and the
  server's own revocation sweep drops every minted role.
- **MCP tool calls** (\`mcp_call_*\`): an SDK client calls the fixture upstream's \`query\` tool
  over stdio, 3,000 times one at a time (after 300 warmup calls), through three routes in turn,
  rotating which goes first: \`countersign mcp-gateway\` gating \`query\` with a warrant already
  held, the same gateway with no gating config, and a bare proxy built with the same SDK
  (\`bench/bare-mcp-proxy.ts\`: forwards each call, nothing else). The gated gateway talks to a
  dev-mode server on a fresh data dir (\`bench/mcp-gated.ts\`) where a \`query\` session of 3,300
  uses was approved before it started: every gated call is exactly one durable redemption (the
  bench fails unless each answer carries the receipt of the next use), and its fulfilment report
  follows the answer. \`mcp_call_overhead_*\` is gated minus bare at p50 and p99;
  \`mcp_call_ungated_overhead_*\` is the pass-through gateway minus bare.
- **log verify** recomputes every leaf hash and the root from the stored events and checks every
  stored checkpoint, as \`countersign log verify --data\` does.

## Where goals are missed: profiles

Profiles taken with \`node --cpu-prof\` on the server under the redemption load
(\`BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" npm run bench\`) and on the reconciler
name these costs (see the figures above for how far each goal is):

- **Redemptions over HTTP** (throughput, p99, ratio). The server's main thread is saturated; one
  redemption costs it about 1/throughput of a second (about 150 µs at 6,600/s). Shares of its
  time under load, largest first: the batch's SQLite statements (savepoint, warrant read,
  conditional update, redemption and event inserts, commit) about 30%; canonical JSON of the
  event and of the receipt's payload, writing responses to sockets, garbage collection and idle
  (every request in flight waiting for a WAL fdatasync) about 7% each; handing the receipt's
  Ed25519 signature to the thread pool about 5%; the log integrator about 4%; strict JSON
  parsing of the body about 3%. The rest is Fastify and Node's HTTP. The second core is shared
  between autocannon, the thread pool (signatures, WAL fdatasync) and the checkpoint worker.
  What moved the figure so far: group commit, prepared statements compiled once from the Kysely
  builders, the fdatasync and the WAL checkpoint off the event loop, verified warrants cached per
  key ring, receipts signed after the commit on the thread pool, receipt ids ordered by time with
  one index of redemptions by warrant, so that a commit writes fewer pages (decision 0031:
  4,663–4,856/s before, 5,001–5,369/s after, side by side), and a WAL that rewinds under load
  (decision 0034: it had grown by 74 MB a second, so every commit extended the file; a batch's
  \`COMMIT\` took about 438 µs of the main thread on ext4, 147 µs on tmpfs; side by side
  5,875–6,396/s with a p99 of 28–29 ms before, 6,525–7,136/s and 24–26 ms after). A second
  server process on the same file does not help on two cores: 4,725–4,729/s for two against
  4,476–4,784/s for one, with the cores saturated. p99 sits at 2.5–3× p50;
  integrating the log in batches of 256 instead of 4,096 cut p97.5 but not p99, and cost 4%
  of the throughput. With the integrator stopped, the same load ran at
  5,539–5,780/s with a p99 of 24–26 ms (before decision 0034); its transaction in a thread of its own connection gave
  the same throughput and p99 as on the serving thread, since no core is idle for it here
  (decision 0031). The ratio to the bare route (63k–99k/s on this
  VM) would need 9.5k–15k durable redemptions/s, under 100 µs of main-thread time each, about
  what the SQLite statements, the commit, the canonical JSON and the socket writes take alone.
- **Reconciliation at 1M observations**: the pure reconciler alone materialises every row, so its
  memory is the input's. Through the store (decision 0024) a pass reads only the newest
  observation per fact plus the run boundaries and claim neighbours the rules need, 100 subjects
  at a time in one snapshot, and memory stays bounded. Decision 0026 then overlapped the phases
  that ran one after another (expiries 3.8 s, plan 16.9 s, findings 7.7 s): the planner thread
  hands over each slice as it is made and the pass writes it while the next is planned, and the
  walk over each fact's history reads a covering index (migration 014) instead of looking each of
  the 1M rows up in the table (7.4 s → 3.5 s). Writing a thousand findings per transaction instead
  of a hundred saves WAL syncs, but each batch runs on the serving thread and tripled redemptions'
  p99 during a pass, so the batches stay at a hundred; the expiries are written before the planner
  starts (with both at once, that p99 ratio went from 1.0 to 1.6–2.1). Decision 0030 has SQLite
  read each slice's histories in one ordered scan of that index and pick the run ends and claim
  limits in JavaScript: 1.4–1.6 s where the window and the claims' look-ups took 5.9 s, and the
  plan 10.9–12 s instead of 17.8 s. A pass over 1M observations is now about 3–5 s of expiries
  (100k \`warrant.expired\` events and their marks, on the serving thread, before planning; with
  no request waiting for the store, each batch no longer waits for the one before to be synced,
  which took the expiries alone from 6.3–7.0 s to 4.7–5.1 s side by side, decision 0032) and then
  the planner thread: its SQLite reads (in one thread alone: the histories 1.8 s, reports 1.35 s,
  grants 1.1 s, redemptions 1.0 s, proofs 0.95 s, denials 0.5 s, most of it rows looked up one by
  one in tables written in time order and read by subject; a slice's redemptions and denials are
  read by its grants' warrant ids, where selecting those warrants again by subject in each read
  cost 1–1.5 s more) and the pure rules (about 2 s), while the serving thread writes the 72k
  findings beside it. Finding ids ordered by the pass's instant and the order raised (decision
  0033) took a pass's bytes written from 2.39 GB to 1.81 GB, and its time from 15.9–17.2 s to
  13.4–15.3 s side by side: the findings' writes now keep up with the planner (done 0.02–0.03 s
  after its last slice, against 0.4–1.6 s). The two cores are full: the expiries' 100k events and
  each finding's event still take a random page each of the index of events by request, and the
  pass takes about 25 s of CPU, a third of it the kernel's, so planning while the expiries are
  written saved little (14.6–16.0 s against 14.6–17.5 s, decision 0032; 12.5–15.3 s against
  13.4–15.3 s with 0033, and redemptions' p99 during a pass was the reason to keep them first,
  decision 0026). The WAL rewinding under load (decision 0034) took the pass from 11.7 s to 11.1–11.2 s side by side on a quiet host, where its threads' profiles add up to about 19 s of CPU. Neither a
  second planner thread nor a bigger page cache shortens it (a bounded mmap of the planner's
  connection: 12.2–12.5 s against 12.6 s for a pass with nothing to write, at 700–970 MB RSS; a
  256 MB page cache: 10.3 s against 10.1–11.3 s, at 780 MB). The passes after the first plan
  only the subjects that changed (decision 0029: \`reconcile_1m_obs_next_s\`), and a pass over
  every subject with no backlog of expiries (\`reconcile_1m_obs_second_s\`,
  \`reconcile_1m_obs_next_full_s\`) took 7.3–10 s across the recent full runs; the first pass over a
  store that holds 100k unrecorded expiries and 72k findings to raise takes about twice that,
  and 10 s for it needs fewer pages written per event and fewer rows read one by one per
  subject, not a faster loop.
- **Redemption p99 during a pass** (\`redeem_p99_reconcile_ratio\`): the ratio of two p99s
  of a saturated server, each from one 10 s load, and it moves with the VM more than with the
  code. Side by side in one hour (this run's host, p99 alone 29–53 ms), the code before decision
  0032 gave 1.59, 2.06 and 2.66, and with it 1.49, 1.90, 1.96 and 2.05 (2.14 in the full run on 042389d, ${valueIn(figures, 'redeem_p99_reconcile_ratio')} in this one);
  p99 during a pass was 73–104 ms for both, and the pass under that load took 29–38 s with it
  against 35–43 s without.
- **The gated MCP tool call** (\`mcp_call_overhead_p50_ms\`${metIn(figures, 'mcp_call_overhead_p50_ms') ? ', met in this run; where it goes when load makes it miss' : ''}): the gateway's own work (mapping the
  call, hashing its arguments, choosing the held warrant, adding the receipt) is within the
  pass-through overhead (\`mcp_call_ungated_overhead_*\`, well under a millisecond); the rest is
  one redemption round trip to the server, which answers only after its WAL fdatasync (a lone
  4 KiB \`dd oflag=dsync\` takes about 1.7 ms here), plus the fulfilment report that follows
  each answer and competes with the next call for the same two cores. Forwarding before the
  redemption commits would break the guarantee, so 3 ms at p50 needs a faster durable
  redemption, the same step as the redemption goals above.
- **PostgreSQL redemptions** (\`pg_redeem_ratio_vs_sqlite\`): a redemption is one statement
  (decision 0025), and under load a node sends the redemptions that arrived together as one
  statement and one commit, one batch at a time (decision 0027). The bench's 64 clients share
  8 warrants, and PostgreSQL gives a row to one committing transaction at a time, so one
  commit per redemption capped each warrant at one use per commit. In that stop's runs one
  node went from 1,300–1,580/s (0.44–0.49× SQLite) to 2,790–3,030/s (0.88–0.93×), and two
  nodes from 0.89–1.01× to 0.95–1.03× one node. Two batches in flight per node made two
  nodes collapse to 0.83×: each waited on the other's row locks. Appends
  (\`pg_append_per_s_1\`) are batched into multi-row inserts (\`appendMany\`).
`;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  // `--only a,b` runs some suites (by name below) and leaves BENCHMARKS.md as it is.
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt < 0 ? null : new Set((process.argv[onlyAt + 1] ?? '').split(','));
  const bigLog = Number(process.env.BENCH_BIG_LOG ?? 1_000_000);
  const m = machine();
  const started = process.hrtime.bigint();
  const suites: ReadonlyArray<[string, () => Promise<Figure[]> | Figure[]]> = [
    ['redeem', redeemBenchmarks],
    ['redeem-cold', redeemColdBenchmarks],
    ['decision', decisionBenchmarks],
    ['log', () => logBenchmarks({ bigLog })],
    ['evidence', evidenceBenchmarks],
    ['reconcile', reconcileBenchmarks],
    ['reconcile-store', reconcileStoreBenchmarks],
    ['reconcile-load', reconcileLoadBenchmarks],
    ['mcp', mcpBenchmarks],
    [
      'postgres',
      async () => {
        try {
          return await postgresBenchmarks();
        } catch (e) {
          progress(`postgres figures skipped: ${(e as Error).message}`);
          return [];
        }
      },
    ],
    [
      'broker',
      async () => {
        // Only a missing PostgreSQL skips it: a brokered answer without a credential fails.
        if (postgresBinDir() === null) {
          progress('broker figures skipped: initdb/postgres not found');
          return [];
        }
        return brokerBenchmarks();
      },
    ],
  ];
  const figures: Figure[] = [];
  for (const [name, run] of suites)
    if (only === null || only.has(name)) figures.push(...(await run()));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const command = `npm run bench${json ? ' -- --json' : ''}`;
  if (only === null) {
    writeFileSync('BENCHMARKS.md', markdown(m, figures, 'npm run bench', seconds));
    progress('wrote BENCHMARKS.md');
  }
  if (json) {
    process.stdout.write(
      JSON.stringify(
        { machine: m, ...Object.fromEntries(figures.map((f) => [f.key, f.value])) },
        null,
        2,
      ) + '\n',
    );
  } else {
    for (const f of figures) {
      process.stdout.write(
        `${f.key.padEnd(32)} ${String(f.value).padStart(12)} ${f.unit.padEnd(3)} ${verdict(f)}\n`,
      );
    }
    void command;
  }
}

await main();
