// @ts-check
/**
 * The import-boundary rule: the one-way flow of ARCHITECTURE.md, enforced.
 *
 * - core imports core only;
 * - a domain area imports core, and another domain area's *types* only: the vocabulary
 *   one step shares with another lives in core, so no behaviour flows sideways;
 * - the offline verifier (evidence, trust) applies the domain: it may call into it;
 * - service calls core, the domain, the verifier and the ports it declares;
 * - store implements service's ports over the domain's types;
 * - http, cli and server are edges (cli runs `serve`, `migrate` and `log verify --data`
 *   in-process; server is the composition root);
 * - client is the SDK (`countersign/client`), which runs in browsers too: it may call
 *   core and name the domain's, the service's and the HTTP schemas' types, never run
 *   their code; the edges that talk to a server (cli, server) call it;
 * - admission (the Kubernetes webhook) is an enforcement point: it runs beside the API
 *   server, not the store, so it reaches countersign through the client alone;
 * - connectors (credential brokers) are outbound adapters: they import core alone; service
 *   names their types, and server, the composition root, builds them from config;
 * - mcp (the MCP gateway) is an enforcement point too, beside an agent's MCP host: it
 *   reaches countersign through the client alone; cli runs it.
 * - console (console/src, the approver console built by Vite) runs in the browser: it may
 *   call core and name the domain's, the verifier's, the service's and the HTTP layer's
 *   types, never run their code, like client.
 * Import cycles are refused too.
 */
import boundaries from 'eslint-plugin-boundaries';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';

export const DOMAIN = [
  'approval',
  'fulfilment',
  'identity',
  'keys',
  'log',
  'nhi',
  'observation',
  'policy',
  'reconcile',
  'redemption',
  'replay',
  'request',
  'warrant',
];
export const VERIFIER = ['evidence', 'trust'];

/** @type {Record<string, string[]>} element type -> what it may import (values and types) */
export const ALLOWED = {
  core: ['core'],
  domain: ['core'],
  verifier: ['core', 'domain', 'verifier'],
  service: ['core', 'domain', 'verifier', 'service'],
  store: ['core', 'domain', 'service', 'store'],
  http: ['core', 'domain', 'verifier', 'service', 'http'],
  client: ['core', 'client'],
  admission: ['core', 'client', 'admission'],
  mcp: ['core', 'client', 'mcp'],
  connectors: ['core', 'connectors'],
  console: ['core', 'console'],
  cli: [
    'core',
    'domain',
    'verifier',
    'service',
    'store',
    'server',
    'client',
    'admission',
    'mcp',
    'cli',
  ],
  server: [
    'core',
    'domain',
    'verifier',
    'service',
    'store',
    'http',
    'client',
    'cli',
    'server',
    'connectors',
  ],
};

/** @type {Record<string, string[]>} element type -> what it may import for its types only */
export const TYPES_ONLY = {
  domain: ['domain'],
  client: ['domain', 'service', 'http'],
  service: ['connectors'],
  console: ['domain', 'verifier', 'service', 'http'],
};

/** @param {string} rootDir */
export function layerConfig(rootDir) {
  const project = `${rootDir}/tsconfig.json`;
  const anyOf = (/** @type {string[]} */ types) => ({
    to: { element: { types: { anyOf: types } } },
  });
  return [
    {
      files: ['src/**/*.ts', 'console/src/**/*.{ts,tsx}'],
      ignores: ['src/index.ts'], // the package's entry re-exports from every layer
      plugins: { boundaries, 'import-x': importX },
      settings: {
        'import/resolver': { typescript: { project } },
        'import-x/extensions': ['.ts', '.tsx', '.js'],
        'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
        'import-x/resolver-next': [createTypeScriptImportResolver({ project })],
        'boundaries/root-path': rootDir,
        'boundaries/elements': [
          { type: 'core', pattern: 'src/core', partialMatch: false },
          { type: 'domain', pattern: `src/{${DOMAIN.join(',')}}`, partialMatch: false },
          { type: 'verifier', pattern: `src/{${VERIFIER.join(',')}}`, partialMatch: false },
          { type: 'service', pattern: 'src/service', partialMatch: false },
          { type: 'store', pattern: 'src/store', partialMatch: false },
          { type: 'http', pattern: 'src/http', partialMatch: false },
          { type: 'client', pattern: 'src/client', partialMatch: false },
          { type: 'admission', pattern: 'src/admission', partialMatch: false },
          { type: 'cli', pattern: 'src/cli', partialMatch: false },
          { type: 'server', pattern: 'src/server', partialMatch: false },
          { type: 'mcp', pattern: 'src/mcp', partialMatch: false },
          { type: 'connectors', pattern: 'src/connectors', partialMatch: false },
          { type: 'console', pattern: 'console/src', partialMatch: false },
        ],
      },
      rules: {
        'boundaries/dependencies': [
          'error',
          {
            default: 'disallow',
            policies: Object.entries(ALLOWED).map(([type, to]) => ({
              from: { element: { type } },
              allow: [
                anyOf(to),
                ...(TYPES_ONLY[type]
                  ? [{ ...anyOf(TYPES_ONLY[type]), dependency: { kind: 'type' } }]
                  : []),
              ],
            })),
          },
        ],
        'boundaries/no-unknown-files': 'error',
        'import-x/no-cycle': ['error', { ignoreExternal: true }],
      },
    },
  ];
}
