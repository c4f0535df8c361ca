#!/usr/bin/env node
// A Claude Code hook that puts a countersign warrant in front of an MCP server's tools,
// without a gateway: PreToolUse asks countersign (spending one use, or filing a request
// for approval), PostToolUse and PostToolUseFailure report how the call ended.
//
// .claude/settings.json:
//   { "hooks": {
//       "PreToolUse":         [{ "matcher": "mcp__orders-db__.*", "hooks": [{ "type": "command", "command": "node examples/claude-code-hook.mjs" }] }],
//       "PostToolUse":        [{ "matcher": "mcp__orders-db__.*", "hooks": [{ "type": "command", "command": "node examples/claude-code-hook.mjs" }] }],
//       "PostToolUseFailure": [{ "matcher": "mcp__orders-db__.*", "hooks": [{ "type": "command", "command": "node examples/claude-code-hook.mjs" }] }] } }
//
// Environment: COUNTERSIGN_ADDR, COUNTERSIGN_TOKEN (the credential that requests and
// redeems for the agent, e.g. the dev principal mcp-gateway) and
// COUNTERSIGN_GATEWAY_CONFIG (the same YAML `countersign mcp-gateway` reads).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolCallChecker } from 'countersign/agent';
import { CountersignClient } from 'countersign/client';

const input = JSON.parse(readFileSync(0, 'utf8'));
const checker = toolCallChecker();
// Claude Code names an MCP tool mcp__<server>__<tool>.
const m = /^mcp__(.+?)__(.+)$/.exec(input.tool_name ?? '');
if (!m || m[1] !== checker.server) process.exit(0); // not this server's: no opinion

// The receipt waits here between PreToolUse and PostToolUse (one process each).
const stateDir = process.env.COUNTERSIGN_HOOK_STATE ?? join(tmpdir(), 'countersign-hook');
const stateFile = join(stateDir, `${String(input.tool_use_id).replace(/[^\w.-]/g, '_')}.json`);

function decide(permissionDecision, permissionDecisionReason) {
  process.stdout.write(
    JSON.stringify({
      hookSpecificOutput: {
        hookEventName: 'PreToolUse',
        permissionDecision,
        permissionDecisionReason,
      },
    }),
  );
}

if (input.hook_event_name === 'PreToolUse') {
  let check;
  try {
    check = await checker.check({ server: m[1], tool: m[2], arguments: input.tool_input ?? {} });
  } catch (e) {
    // Fail closed: arguments no digest can cover, or a broken config, never run unchecked.
    decide('deny', `countersign: ${e.message}`);
    process.exit(0);
  }
  if (!check.allowed) {
    decide('deny', `countersign: ${check.message}`);
  } else {
    if (check.gated) {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      writeFileSync(stateFile, JSON.stringify({ receipt: check.receipt, target: check.target }), {
        mode: 0o600,
      });
    }
    decide('allow', check.gated ? 'countersign: warrant redeemed' : 'countersign: not gated');
  }
} else if (
  input.hook_event_name === 'PostToolUse' ||
  input.hook_event_name === 'PostToolUseFailure'
) {
  let saved;
  try {
    saved = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    process.exit(0); // ungated, or allowed by someone else
  }
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
    detail: `Claude Code ${input.hook_event_name}`,
  });
  rmSync(stateFile, { force: true });
}
