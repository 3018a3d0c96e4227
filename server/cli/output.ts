/** @module What list commands print with `--json`: the REST API's own JSON, for scripts and jq. */
import { Option } from 'commander';

export function jsonOption(): Option {
  return new Option('--json', 'print the JSON the REST API answers, not lines');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
