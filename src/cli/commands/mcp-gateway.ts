import { accessSync, constants, statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../../core/duration.js';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { wholeNumber } from '../whole-number.js';

interface GatewayFlags {
  upstreamCmd?: string;
  upstreamUrl?: string;
  listen?: { host: string; port: number };
  gatewayConfig?: string;
  wait?: number;
}

function durationArg(v: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function listenArg(v: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(v);
  const port = m ? wholeNumber(m[2] ?? '', 0, 65535) : undefined;
  if (!m || port === undefined) {
    throw new InvalidArgumentError('expected <host>:<port>, e.g. 127.0.0.1:8471');
  }
  return { host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
}

function configArg(v: string): string {
  try {
    if (!statSync(v).isFile()) throw new Error('not a file');
    accessSync(v, constants.R_OK);
  } catch {
    throw new InvalidArgumentError('not a readable file');
  }
  return v;
}

const say = (line: string): boolean => process.stderr.write(`countersign mcp-gateway: ${line}\n`);

export function mcpGatewayCommand(program: Command, cx: CommandContext): void {
  program
    .command('mcp-gateway')
    .description(
      'proxy one MCP server for an agent: everything passes through, every tools/call crosses the gate',
    )
    .option('--upstream-cmd <command>', 'run the upstream MCP server and speak stdio to it')
    .option('--upstream-url <url>', "the upstream MCP server's Streamable HTTP endpoint")
    .option(
      '--listen <host:port>',
      'serve Streamable HTTP at http://<host:port>/mcp (default: serve stdio)',
      listenArg,
    )
    .option(
      '--gateway-config <file>',
      'the gating configuration (YAML): without it, every call passes through ungated',
      configArg,
    )
    .option(
      '--wait <duration>',
      'hold a call that needs approval this long (e.g. 120s), sending progress, before refusing it',
      durationArg,
    )
    .argument('[command...]', 'after --, the upstream command and its arguments')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  countersign mcp-gateway --gateway-config gateway.yaml --wait 120s -- node upstream.js\n' +
        '  countersign mcp-gateway --upstream-url https://mcp.example.com/mcp --listen 127.0.0.1:8471\n' +
        '\nStdout carries the MCP protocol when serving stdio; everything else goes to stderr.',
    )
    .action(async (command: string[], o: GatewayFlags) => {
      const given = [o.upstreamCmd, o.upstreamUrl, command.length > 0 ? command : undefined];
      if (given.filter((g) => g !== undefined).length !== 1) {
        throw new CliError(
          'name the upstream once: --upstream-cmd CMD, --upstream-url URL, or -- CMD ARGS…',
          EXIT.usage,
        );
      }
      // Loaded lazily: other commands should not pay for the MCP SDK.
      const { startGateway } = await import('../../mcp/gateway.js');
      const { splitCommand } = await import('../../mcp/command-line.js');
      const { upstreamUrl } = await import('../../mcp/upstream.js');
      const argv = command.length > 0 ? command : o.upstreamCmd ? splitCommand(o.upstreamCmd) : [];
      const [first, ...rest] = argv;
      const upstream =
        o.upstreamUrl !== undefined
          ? { kind: 'http' as const, url: upstreamUrl(o.upstreamUrl) }
          : { kind: 'stdio' as const, command: first as string, args: rest };
      let gated;
      if (o.gatewayConfig === undefined) {
        say('no --gateway-config: every tool call passes through ungated');
      } else {
        const { gating } = await import('../../mcp/gating.js');
        try {
          gated = gating(o.gatewayConfig, cx.client(), o.wait);
        } catch (e) {
          throw new CliError((e as Error).message, EXIT.usage);
        }
        if (gated.authenticate !== undefined && !o.listen) {
          throw new CliError('agentTokens name agents per HTTP session: add --listen', EXIT.usage);
        }
      }
      let gateway;
      try {
        gateway = await startGateway({
          ...(gated ? { gate: gated.gate } : {}),
          ...(gated?.authenticate ? { authenticate: gated.authenticate } : {}),
          upstream,
          downstream: o.listen ? { kind: 'http', ...o.listen } : { kind: 'stdio' },
          report: (e) => say(e.message),
        });
      } catch (e) {
        throw new CliError((e as Error).message, EXIT.server);
      }
      say(
        gateway.url === undefined
          ? `serving stdio (upstream era: ${gateway.upstreamEra})`
          : `listening on ${gateway.url} (upstream era: ${gateway.upstreamEra})`,
      );
      const stop = (): void => void gateway.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const why = await gateway.stopped;
      if (why === 'upstream-closed') say('the upstream MCP server went away');
      process.exit(why === 'upstream-closed' ? EXIT.server : EXIT.ok);
    });
}
