/**
 * @module The Node SDK: submit jobs, follow them, read their results, from scripts.
 *
 * @example
 * import { connect } from 'browsergrid/sdk';
 * const client = connect('http://localhost:8080', { token: process.env.BROWSERGRID_ADMIN_TOKEN! });
 * const squares = await client.map([1, 2, 3], (x) => x * x); // [1, 4, 9]
 * const job = await client.submit({ map: '(x) => x + 1', inputs: { range: { start: 0, end: 1e5 } } });
 * job.onProgress((summary) => console.log(`${summary.done}/${summary.tasks}`));
 * for await (const line of job.results({ follow: true })) console.log(line.index, line);
 */
export {
  Client,
  connect,
  type ConnectOptions,
  type MapFunction,
  type MapOptions,
  type SubmittedJob,
  type UploadSource,
} from './client.ts';
export { BrowsergridError, JobFailedError } from './errors.ts';
export { Job, type ConnectionChange } from './job.ts';
