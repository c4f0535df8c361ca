#!/usr/bin/env node
// A Claude Code hook that puts a countersign warrant in front of an MCP server's tools,
// without a gateway: PreToolUse asks countersign (spending one use, or filing a request
// for approval), PostToolUse and PostToolUseFailure report how the call ended.
//
// .claude/settings.json (one entry per event, each running this script):
//   { "hooks": {
//       "PreToolUse":         [{ "matcher": "mcp__orders-db__.*", "hooks": [{ "type": "command", "command": "node examples/claude-code-hook.mjs" }] }],
//       "PostToolUse":        [{ "matcher": "mcp__orders-db__.*", "hooks": [{ "type": "command", "command": "node examples/claude-code-hook.mjs" }] }],
//       "PostToolUseFailure": [{ "matcher": "mcp__orders-db__.*", "hooks": [{ "type": "command", "command": "node examples/claude-code-hook.mjs" }] }] } }
//
// Environment: COUNTERSIGN_ADDR, COUNTERSIGN_TOKEN (the credential that requests and
// redeems for the agent, e.g. the dev principal mcp-gateway), COUNTERSIGN_GATEWAY_CONFIG
// (the YAML `countersign mcp-gateway` reads) and COUNTERSIGN_HOOK_STATE (a private
// directory; default a countersign-hook directory under the system temp dir).
//
// It fails closed: anything that goes wrong before a call is allowed blocks the call
// (exit 2, the reason on stderr, which Claude Code shows the model).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolCallChecker } from 'countersign/agent';
import { CountersignClient } from 'countersign/client';

const stateDir = process.env.COUNTERSIGN_HOOK_STATE ?? join(tmpdir(), 'countersign-hook');

/** Which requests were filed, across hook runs: a retry finds its pending request. */
const memoryFile = join(stateDir, 'filed.json');
const memory = {
  get: (key) => readJson(memoryFile)?.[key],
  set: (key, id) => writePrivate(memoryFile, { ...readJson(memoryFile), [key]: id }),
};

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function writePrivate(file, value) {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(value), { mode: 0o600 });
}

function decide(permissionDecision, permissionDecisionReason) {
  const hookSpecificOutput = {
    hookEventName: 'PreToolUse',
    permissionDecision,
    permissionDecisionReason,
  };
  process.stdout.write(JSON.stringify({ hookSpecificOutput }));
}

async function preToolUse(input, checker, server, tool, stateFile) {
  const check = await checker.check({ server, tool, arguments: input.tool_input ?? {} });
  if (!check.allowed) return decide('deny', `countersign: ${check.message}`);
  // Not gated: no opinion, so Claude Code's own permission rules still apply.
  if (!check.gated) return;
  const { receipt, target, argumentsDigest } = check;
  writePrivate(stateFile, { receipt, target, argumentsDigest });
  decide('allow', 'countersign: warrant redeemed');
}

async function postToolUse(input, stateFile) {
  const saved = readJson(stateFile);
  if (saved === undefined) return; // ungated, or allowed by someone else
  const failed =
    input.hook_event_name === 'PostToolUseFailure' || input.tool_response?.isError === true;
  const client = new CountersignClient({
    baseUrl: process.env.COUNTERSIGN_ADDR ?? 'http://127.0.0.1:8470',
    token: process.env.COUNTERSIGN_TOKEN,
  });
  await client.fulfil({
    receipt: saved.receipt,
    target: saved.target,
    outcome: failed ? 'failure' : 'success',
    fingerprint: saved.argumentsDigest, // what ran: the exact arguments
    detail: `Claude Code ${input.hook_event_name}`,
  });
  rmSync(stateFile, { force: true });
}

let event = 'PreToolUse';
try {
  const input = JSON.parse(readFileSync(0, 'utf8'));
  event = input.hook_event_name;
  const checker = toolCallChecker({ memory });
  // Claude Code names an MCP tool mcp__<server>__<tool>.
  const m = /^mcp__(.+?)__(.+)$/.exec(input.tool_name ?? '');
  if (m && m[1] === checker.server) {
    const stateFile = join(stateDir, `${String(input.tool_use_id).replace(/[^\w.-]/g, '_')}.json`);
    if (event === 'PreToolUse') await preToolUse(input, checker, m[1], m[2], stateFile);
    else if (event === 'PostToolUse' || event === 'PostToolUseFailure')
      await postToolUse(input, stateFile);
  }
} catch (e) {
  process.stderr.write(`countersign: ${e instanceof Error ? e.message : String(e)}\n`);
  // Only PreToolUse can still stop the call; afterwards the report is what failed.
  process.exit(event === 'PreToolUse' ? 2 : 1);
}
