import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, type CliResult, type TestServer } from './server.js';

/** The Claude Code hook example, run as Claude Code runs it: `node examples/claude-code-hook.mjs`. */
export const HOOK = join(ROOT, 'examples/claude-code-hook.mjs');

/** What Claude Code writes to a hook's stdin for one event of an MCP tool call. */
export interface HookEvent {
  readonly hook_event_name: 'PreToolUse' | 'PostToolUse' | 'PostToolUseFailure';
  readonly tool_name: string;
  readonly tool_input: Record<string, unknown>;
  readonly tool_use_id: string;
  readonly tool_response?: unknown;
}

/** The decision a PreToolUse hook prints on stdout. */
export interface HookDecision {
  readonly hookSpecificOutput: {
    readonly hookEventName: 'PreToolUse';
    readonly permissionDecision: 'allow' | 'deny' | 'ask';
    readonly permissionDecisionReason: string;
  };
}

/**
 * One Claude Code project's hook set-up against a test server: a gating config (YAML)
 * and a state directory in a scratch dir, and the environment the hook reads them from.
 */
export class HookProject {
  readonly dir = mkdtempSync(join(tmpdir(), 'countersign-hook-'));
  readonly stateDir = join(this.dir, 'state');
  readonly configFile = join(this.dir, 'gateway.yaml');

  constructor(
    readonly server: TestServer,
    config: string,
  ) {
    writeFileSync(this.configFile, config);
  }

  /** The state file that holds a receipt between PreToolUse and PostToolUse. */
  stateFile(toolUseId: string): string {
    return join(this.stateDir, `${toolUseId}.json`);
  }

  /** Runs the hook for one event, as `mcp-gateway` unless `env` says otherwise. */
  run(event: HookEvent, env: Record<string, string> = {}): Promise<CliResult> {
    const input = { session_id: 'session-1', cwd: this.dir, ...event };
    return new Promise((ok, fail) => {
      const p = spawn(process.execPath, [HOOK], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          COUNTERSIGN_ADDR: this.server.url,
          COUNTERSIGN_TOKEN: this.server.tokens['mcp-gateway'],
          COUNTERSIGN_GATEWAY_CONFIG: this.configFile,
          COUNTERSIGN_HOOK_STATE: this.stateDir,
          ...env,
        },
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      p.once('error', fail);
      p.once('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
      p.stdin.end(JSON.stringify(input));
    });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The decision a PreToolUse run printed, or undefined when it printed nothing. */
export function decisionOf(r: CliResult): HookDecision['hookSpecificOutput'] | undefined {
  return r.stdout === '' ? undefined : (JSON.parse(r.stdout) as HookDecision).hookSpecificOutput;
}
