/** @module `browsergrid tokens`: list named admin tokens, create one, or revoke one. */
import type { Command } from 'commander';
import { jsonOption, printJson } from './output.ts';
import { clientOf, remote, type RemoteOptions } from './remote.ts';

interface TokensOptions extends RemoteOptions {
  create?: string;
  revoke?: string;
  json?: boolean;
}

export function addTokensCommand(program: Command): void {
  remote(program.command('tokens'))
    .description('list admin tokens, create one with --create NAME, revoke one with --revoke ID')
    .option('--create <name>', 'create a token; it is printed once')
    .option('--revoke <tokenId>', 'revoke a token')
    .addOption(jsonOption())
    .action(async (options: TokensOptions) => {
      const client = clientOf(options);
      if (options.create) {
        const created = await client.createToken(options.create);
        if (options.json) printJson(created);
        else
          process.stdout.write(`${created.tokenId}  ${created.token}\n(shown once: keep it now)\n`);
        return;
      }
      if (options.revoke) {
        await client.revokeToken(options.revoke);
        process.stdout.write(`${options.revoke} revoked\n`);
        return;
      }
      const tokens = await client.tokens();
      if (options.json) {
        printJson(tokens);
        return;
      }
      if (tokens.length === 0) {
        process.stdout.write(
          'no named tokens yet; create one with: browsergrid tokens --create NAME\n',
        );
      }
      for (const token of tokens) {
        process.stdout.write(
          `${token.tokenId}  ${token.name}  created ${token.createdAt}${token.revokedAt ? `  revoked ${token.revokedAt}` : ''}\n`,
        );
      }
    });
}
