/**
 * Every countersign command line the deployment files hold (the Dockerfile's CMD, the
 * compose `command:`s, the Kubernetes `args:`), the environment each sets, and a check
 * of a command line against the CLI's own usage (`countersign <command> --help`).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT } from '../helpers/server.js';
import {
  COMPOSE_IMAGE,
  composeServices,
  countersignContainers,
  dockerStages,
  execForm,
  k8sObjects,
  podSpec,
} from './files.js';

export interface Invocation {
  readonly where: string;
  readonly args: readonly string[];
  /** The variables set for it; null where the value comes from a Kubernetes Secret. */
  readonly env: Readonly<Record<string, string | null>>;
}

/** The image's default command (the final stage's CMD) and environment (its ENV). */
export function imageDefaults(): { cmd: string[]; env: Record<string, string> } {
  const runtime = dockerStages().at(-1)!;
  const cmd = runtime.instructions.filter((i) => i.keyword === 'CMD').at(-1);
  const env: Record<string, string> = {};
  for (const i of runtime.instructions.filter((x) => x.keyword === 'ENV')) {
    for (const pair of i.args.split(/\s+/)) {
      const [name, value] = pair.split('=', 2) as [string, string | undefined];
      env[name] = value ?? '';
    }
  }
  return { cmd: cmd ? execForm(cmd.args) : [], env };
}

/** Every place the deployment runs countersign, with its arguments and environment. */
export function invocations(): Invocation[] {
  const image = imageDefaults();
  const found: Invocation[] = [{ where: 'Dockerfile CMD', args: image.cmd, env: image.env }];
  for (const [name, svc] of Object.entries(composeServices())) {
    if (svc.image !== COMPOSE_IMAGE) continue;
    found.push({
      where: `docker-compose.yml ${name}`,
      args: svc.command ?? image.cmd,
      env: { ...image.env, ...svc.environment },
    });
  }
  for (const o of k8sObjects().filter((x) => x.kind === 'Deployment')) {
    for (const c of countersignContainers(podSpec(o))) {
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? null]));
      found.push({
        where: `${o.file} ${o.metadata.name}/${c.name}`,
        args: c.args ?? image.cmd,
        env: { ...image.env, ...env },
      });
    }
  }
  return found;
}

export interface Usage {
  /** Each option, and whether it takes a value. */
  readonly options: ReadonlyMap<string, boolean>;
  readonly required: readonly string[];
  /** Whether the command takes positional arguments. */
  readonly positionals: boolean;
}

/**
 * Options a command refuses to run without. Commander's `--help` does not mark them, so
 * they are listed here, from the commands' `requiredOption` calls.
 */
const REQUIRED_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  admission: ['--tls-cert', '--tls-key', '--cluster'],
};

const helpCache = new Map<string, Usage>();

/** The usage `countersign [command] --help` prints (the program's own for no command). */
export function helpUsage(command: readonly string[]): Usage {
  const key = command.join(' ');
  const cached = helpCache.get(key);
  if (cached) return cached;
  const usage = readHelp(command);
  helpCache.set(key, usage);
  return usage;
}

function readHelp(command: readonly string[]): Usage {
  const r = spawnSync(process.execPath, [CLI, ...command, '--help'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`countersign ${command.join(' ')} --help: ${r.stderr}`);
  const [head = '', rest = ''] = r.stdout.split(/^Options:$/m);
  const options = new Map<string, boolean>();
  for (const line of (rest.split(/^Commands:$/m)[0] ?? '').split('\n')) {
    // `  -o, --out <file>   …`; continuation lines of a description are indented further
    const m = /^ {2}(?:-\w, )?(--[a-z0-9-]+)( [<[])?/.exec(line);
    if (m) options.set(m[1]!, m[2] !== undefined);
  }
  const usageLine = /^Usage: .*$/m.exec(head)?.[0] ?? '';
  return {
    options,
    required: REQUIRED_OPTIONS[command.join(' ')] ?? [],
    positionals: /[<[]/.test(usageLine.replace('[options]', '')),
  };
}

/**
 * What is wrong with a command line: an unknown option, an option missing its value or
 * given one it does not take, a stray argument, or a required option left out.
 */
export function usageProblems(args: readonly string[], global: Usage, usage: Usage): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (let i = 1; i < args.length; i++) {
    const token = args[i]!;
    if (!token.startsWith('--')) {
      if (!usage.positionals) problems.push(`unexpected argument ${token}`);
      continue;
    }
    const eq = token.indexOf('=');
    const flag = eq === -1 ? token : token.slice(0, eq);
    const takesValue = usage.options.get(flag) ?? global.options.get(flag);
    if (takesValue === undefined) {
      problems.push(`unknown option ${flag}`);
      continue;
    }
    seen.add(flag);
    if (!takesValue && eq !== -1) problems.push(`${flag} takes no value`);
    if (takesValue && eq === -1) {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) problems.push(`${flag} needs a value`);
      else i++;
    }
  }
  for (const flag of usage.required) if (!seen.has(flag)) problems.push(`${flag} is required`);
  return problems;
}

/** The value given to an option in a command line, if any. */
export function optionValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]!.startsWith(`${flag}=`)) return args[i]!.slice(flag.length + 1);
  }
  return undefined;
}

/** The COUNTERSIGN_* environment variables the source reads (`env.X` or `env['X']`). */
export function countersignVariablesRead(): Set<string> {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/\benv(?:\.|\[['"])(COUNTERSIGN_[A-Z0-9_]+)/g)) {
          found.add(m[1]!);
        }
      }
    }
  };
  walk(join(ROOT, 'src'));
  return found;
}
