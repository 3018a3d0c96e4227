/**
 * The architecture's one-way arrows (docs/architecture.md), checked by `npm run lint:deps`, which
 * `npm test` runs first. Data flows HTTP/socket in -> shared schemas -> scheduling decides ->
 * engine applies -> store commits; nothing points back.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle ties two rooms into one; cut the seam instead.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-is-shared',
      severity: 'error',
      comment: 'shared/ is imported by the server, the pages and the SDK: it imports neither side.',
      from: { path: '^shared/' },
      to: { path: '^(server|client)/' },
    },
    {
      name: 'client-not-server',
      severity: 'error',
      comment: 'A browser file never imports a server file; what both need is a schema in shared/.',
      from: { path: '^client/' },
      to: { path: '^server/' },
    },
    {
      name: 'store-imports-no-policy',
      severity: 'error',
      comment:
        'The store is the durable record: it knows the shared types, never the policy or the edges.',
      from: { path: '^server/store/' },
      to: { path: '^server/(scheduling|realtime|http|engine)/' },
    },
    {
      name: 'jobs-below-policy',
      comment:
        "server/jobs/ (a job's code and inputs) is used by the scheduler and the engine; it uses neither.",
      severity: 'error',
      from: { path: '^server/jobs/' },
      to: { path: '^server/(scheduling|engine|realtime|http)/' },
    },
    {
      name: 'scheduling-is-pure',
      severity: 'error',
      comment:
        'Scheduling decides and returns effects; it does no I/O (no sockets, SQL, files, network).',
      from: { path: '^server/scheduling/' },
      to: {
        path: '^(server/(store|realtime|http|engine)/|node_modules/(socket\\.io|better-sqlite3|express|pg)/)|^(fs|net|http|https|child_process)$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'scheduling-no-node-io',
      severity: 'error',
      comment: 'Scheduling does no I/O: no Node modules that reach disks, sockets or processes.',
      from: { path: '^server/scheduling/' },
      to: { dependencyTypes: ['core'], pathNot: '^(crypto|node:crypto)$' },
    },
    {
      name: 'sim-tab-runs-anywhere',
      severity: 'error',
      comment:
        'The simulated tab runs inside bench worker threads and child processes by the thousand: it speaks only the shared protocol, never loading the coordinator, the pages or a bench.',
      from: { path: '^test/support/sim-' },
      to: { path: '^(server|client|bench)/' },
    },
    {
      name: 'examples-use-the-sdk',
      severity: 'error',
      comment:
        'examples/ are what a user copies out of the checkout: they reach browsergrid through `browsergrid/sdk` (or the CLI) only, never its insides.',
      from: { path: '^examples/' },
      to: { path: '^(server/(?!sdk/)|client/|shared/|test/|bench/)' },
    },
    {
      name: 'tests-not-benches',
      severity: 'error',
      comment:
        'Benches build on the test support (coordinators, the simulated tab); never the reverse.',
      from: { path: '^test/' },
      to: { path: '^bench/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
  },
};
