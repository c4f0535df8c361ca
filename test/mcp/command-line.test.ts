import { describe, expect, it } from 'vitest';
import { splitCommand } from '../../src/mcp/command-line.js';
import { McpGatewayError } from '../../src/mcp/errors.js';

describe('splitCommand', () => {
  describe('when the command has plain words', () => {
    it('splits on any run of white space', () => {
      expect(splitCommand('  node   server.js\t--port 3 ')).toEqual([
        'node',
        'server.js',
        '--port',
        '3',
      ]);
    });
  });

  describe('when words are quoted or escaped', () => {
    it('keeps quoted white space and drops the quotes, as a shell does', () => {
      expect(splitCommand(`node "my server.js" --db 'orders db' a\\ b`)).toEqual([
        'node',
        'my server.js',
        '--db',
        'orders db',
        'a b',
      ]);
    });

    it('keeps an empty quoted word', () => {
      expect(splitCommand(`run "" ''`)).toEqual(['run', '', '']);
    });

    it('honours backslash in double quotes only before " \\ $ `', () => {
      expect(splitCommand(String.raw`echo "a\"b\\c\d" 'e\f'`)).toEqual([
        'echo',
        'a"b\\c\\d',
        'e\\f',
      ]);
    });

    it('expands nothing: variables and globs stay as written', () => {
      expect(splitCommand('node $HOME/*.js')).toEqual(['node', '$HOME/*.js']);
    });
  });

  describe('when the command cannot be run', () => {
    it('refuses an unterminated quote and an empty command, with a stable code', () => {
      for (const bad of [`node "server.js`, `node 'x`, '   ', '']) {
        expect(() => splitCommand(bad)).toThrow(McpGatewayError);
        try {
          splitCommand(bad);
        } catch (e) {
          expect((e as McpGatewayError).code).toBe('UPSTREAM_COMMAND_INVALID');
        }
      }
    });
  });
});
