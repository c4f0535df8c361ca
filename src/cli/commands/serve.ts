import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('run the countersign server')
    .option('--dev', 'dev mode: sample policy, dev principals and tokens in the data dir')
    .option('--config <file>', 'configuration file (YAML or JSON)')
    .option('--data <dir>', 'data directory (default ./data)')
    .option('--port <n>', 'port to listen on (default 8470)', (v) => Number.parseInt(v, 10))
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
        if (server.tokensFile) {
          // Dev tokens are printed once at start on the terminal, never into the log stream.
          const tokens = JSON.parse(readFileSync(server.tokensFile, 'utf8')) as Record<
            string,
            string
          >;
          process.stderr.write(`countersign dev mode: listening on ${server.url}\n`);
          process.stderr.write(`dev tokens (also in ${server.tokensFile}):\n`);
          for (const [id, token] of Object.entries(tokens))
            process.stderr.write(`  ${id.padEnd(10)} ${token}\n`);
        }
        const stop = (): void => {
          void server.close().then(() => process.exit(0));
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      },
    );
}
