/** @module `browsergrid tokens`: list named admin tokens, create one, or revoke one. */
import type { Command } from 'commander';
import { clientOf, remote, type RemoteOptions } from './remote.ts';

export function addTokensCommand(program: Command): void {
  remote(program.command('tokens'))
    .description('list admin tokens, create one with --create NAME, revoke one with --revoke ID')
    .option('--create <name>', 'create a token; it is printed once')
    .option('--revoke <tokenId>', 'revoke a token')
    .action(async (options: RemoteOptions & { create?: string; revoke?: string }) => {
      const client = clientOf(options);
      if (options.create) {
        const created = await client.createToken(options.create);
        process.stdout.write(`${created.tokenId}  ${created.token}\n(shown once: keep it now)\n`);
        return;
      }
      if (options.revoke) {
        await client.revokeToken(options.revoke);
        process.stdout.write(`${options.revoke} revoked\n`);
        return;
      }
      for (const token of await client.tokens()) {
        process.stdout.write(
          `${token.tokenId}  ${token.name}  created ${token.createdAt}${token.revokedAt ? `  revoked ${token.revokedAt}` : ''}\n`,
        );
      }
    });
}
