import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { wholeNumberArg } from '../whole-number.js';

/** `--port`: a whole number from 0 (any free port) to 65535, else a usage error. */
const portArg = wholeNumberArg(0, 65535, 'a port is a whole number from 0 to 65535');

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('run the countersign server')
    .option('--dev', 'dev mode: sample policy, dev principals and tokens in the data dir')
    .option('--config <file>', 'configuration file (YAML or JSON)')
    .option('--data <dir>', 'data directory (default ./data)')
    .option('--port <n>', 'port to listen on (env COUNTERSIGN_PORT; default 8470)', portArg)
    .option('--host <addr>', 'address to bind (default 127.0.0.1)')
    .action(
      async (o: {
        dev?: boolean;
        config?: string;
        data?: string;
        port?: number;
        host?: string;
      }) => {
        // Loaded lazily: client commands should not pay for the server's modules.
        const { startServer } = await import('../../server/start.js');
        const server = await startServer({
          dev: o.dev === true,
          ...(o.config ? { configFile: o.config } : {}),
          ...(o.data ? { dataDir: o.data } : {}),
          ...(o.port !== undefined ? { port: o.port } : {}),
          ...(o.host ? { host: o.host } : {}),
        });
        // First: a signal that arrives while the lines below are written then closes the
        // server cleanly instead of killing the process between two of them.
        const stop = (): void => {
          void server.close().then(() => process.exit(0));
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        if (server.devTokens) {
          // Printed on the terminal once, when they are made, and never into the log
          // stream; afterwards only where they are kept.
          const { file, created } = server.devTokens;
          process.stderr.write(`countersign dev mode: listening on ${server.url}\n`);
          if (created) {
            const tokens = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
            process.stderr.write(`dev tokens (also in ${file}):\n`);
            for (const [id, token] of Object.entries(tokens))
              process.stderr.write(`  ${id.padEnd(10)} ${token}\n`);
          } else {
            process.stderr.write(`dev tokens: in ${file} (printed when they were created)\n`);
          }
        }
      },
    );
}
