/**
 * @module `npm run bench [-- --smoke] [--json FILE] [--only NAME]`: each benchmark measures
 * browsergrid and a baseline in the same run and prints the ratio, the absolute figures and the
 * machine. All traffic stays on 127.0.0.1; every run is bounded in size and time.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchClusterTabs } from './cluster-tabs.ts';
import { benchConnections } from './connections.ts';
import { benchDispatch, benchScale } from './dispatch.ts';
import { benchFailover } from './failover.ts';
import { benchFaults, benchRedundancy } from './fleet.ts';
import { benchJobMemory } from './job-memory.ts';
import { benchNodes } from './nodes.ts';
import { benchSoak } from './soak.ts';
import { SMOKE, args, figures } from './support.ts';
import { benchStoreThroughput } from './store-throughput.ts';
import { benchStragglerNode } from './straggler-node.ts';
import { benchTabs } from './tabs.ts';
import { benchTenMillion } from './ten-million.ts';

const benches: Record<string, () => Promise<void>> = {
  scale: benchScale,
  connections: benchConnections,
  redundancy: benchRedundancy,
  dispatch: benchDispatch,
  faults: benchFaults,
  tabs: benchTabs,
  soak: benchSoak,
  memory: benchJobMemory,
  failover: benchFailover,
  'straggler-node': benchStragglerNode,
  store: benchStoreThroughput,
  nodes: benchNodes,
  'ten-million': benchTenMillion,
  'cluster-tabs': benchClusterTabs,
};

process.stdout.write(
  `browsergrid bench${SMOKE ? ' (smoke: small sizes, figures not meaningful)' : ''}: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})\n`,
);
for (const [name, bench] of Object.entries(benches)) {
  if (args.only && args.only !== name) continue;
  await bench();
}
if (args.json)
  writeFileSync(
    args.json,
    `${JSON.stringify({ node: process.version, cores: cpus().length, figures }, null, 2)}\n`,
  );
process.exit(0);
