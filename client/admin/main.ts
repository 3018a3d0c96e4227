/**
 * @module The admin page: token once (kept in localStorage), grids and their rosters, job
 * submission, a live job table fed by the `/admin` socket namespace, cancel, results download
 * and each job's task timeline.
 */
import { io, type Socket } from 'socket.io-client';
import {
  isFinished,
  type JobSpecInput,
  type JobSummary,
  type UploadSummary,
} from '../../shared/job.ts';
import type { Ack, AdminToServerEvents, ServerToAdminEvents } from '../../shared/protocol.ts';
import { AdminApi, ApiError } from './api.ts';
import { DevicesPanel } from './devices.ts';
import { ThroughputChart } from './throughput.ts';
import { offerGrids } from './grid-list.ts';
import { GridsPanel } from './grids.ts';
import { showError as showErrorIn } from './show-error.ts';
import { TimelinePanel } from './timeline.ts';
import { JobTable } from './job-table.ts';

const TOKEN_KEY = 'browsergrid.adminToken';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`[admin]: page is missing #${id}`);
  return found as T;
}

function showError(id: string, error: unknown): void {
  showErrorIn(element(id), error);
}

let api: AdminApi | undefined;
let socket: Socket<ServerToAdminEvents, AdminToServerEvents> | undefined;
const timeline = new TimelinePanel(element('timeline'), {
  load: (jobId, from, limit) =>
    api ? api.tasks(jobId, from, limit) : Promise.reject(new Error('[admin]: not logged in')),
  finished: (jobId) => {
    const job = jobs.get(jobId);
    return job === undefined || isFinished(job.status);
  },
});
const jobs = new JobTable(element('jobs-card'), {
  cancel: (jobId) => void cancelJob(jobId),
  download: (jobId) => void downloadResults(jobId),
  timeline: (jobId, title) => timeline.open(jobId, title),
  errors: (jobId, limit) =>
    api ? api.errors(jobId, limit) : Promise.reject(new Error('[admin]: not logged in')),
});
// Durations of queued and running jobs move on by themselves.
setInterval(() => {
  if (api && jobs.hasActive()) jobs.render();
}, 1_000);
const devices = new DevicesPanel(element('devices'));
const throughput = new ThroughputChart(element('throughput'), element('throughput-now'));
const grids = new GridsPanel(element('grids'), {
  onList: (list) => offerGrids(element<HTMLSelectElement>('job-grid'), list),
});

/** Accepts a JSON array, or `start..end` / `start..end..step` for a range. */
export function parseInputs(text: string): JobSpecInput['inputs'] {
  const range = text.trim().match(/^(-?\d+)\s*\.\.\s*(-?\d+)(?:\s*\.\.\s*(-?\d+))?$/);
  if (range) {
    const [, start, end, step] = range;
    return {
      range: { start: Number(start), end: Number(end), ...(step ? { step: Number(step) } : {}) },
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `Inputs: not valid JSON (${(error as Error).message}); give an array like [1, 2, 3] or a range like 0..1000`,
    );
  }
  if (!Array.isArray(parsed))
    throw new Error('Inputs: expected a JSON array, or a range like 0..1000');
  return parsed as JobSpecInput['inputs'];
}

async function cancelJob(jobId: string): Promise<void> {
  if (!api) return;
  try {
    jobs.set(await api.cancel(jobId));
  } catch (error) {
    alert(error instanceof Error ? error.message : String(error));
  }
}

async function downloadResults(jobId: string): Promise<void> {
  if (!api) return;
  const blob = await api.results(jobId);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `${jobId}.ndjson`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function connectLive(token: string): void {
  socket?.disconnect();
  const live = element('live');
  socket = io('/admin', { auth: { token }, transports: ['websocket'] });
  socket.on('connect', () => {
    live.textContent = 'live';
    socket?.emit('jobs:subscribe', (res: Ack<JobSummary[]>) => {
      if (!res.ok) return;
      jobs.replace(res.data);
    });
  });
  socket.on('disconnect', () => {
    live.textContent = 'reconnecting…';
  });
  socket.on('connect_error', (error) => {
    live.textContent = `not connected: ${error.message}`;
  });
  socket.on('job:progress', (summary) => jobs.set(summary));
}

async function login(token: string): Promise<boolean> {
  const candidate = new AdminApi(token);
  try {
    const list = await candidate.list();
    api = candidate;
    localStorage.setItem(TOKEN_KEY, token);
    jobs.replace(list);
    element('admin-bar').hidden = false;
    element('submit').hidden = false;
    grids.start(candidate);
    element('jobs-card').hidden = false;
    devices.start(candidate);
    throughput.start(() => jobs.all());
    element('login').hidden = true;
    connectLive(token);
    showError('login-error', undefined);
    return true;
  } catch (error) {
    showError(
      'login-error',
      error instanceof ApiError && error.status === 401
        ? new Error('That token was refused.')
        : error,
    );
    return false;
  }
}

/** The form's job; `inputs` stands in for the inputs field (an upload made from the file chosen). */
function readSpec(form: HTMLFormElement, inputs?: JobSpecInput['inputs']): JobSpecInput {
  const data = new FormData(form);
  const text = (name: string): string => String(data.get(name) ?? '').trim();
  const int = (name: string): number | undefined =>
    text(name) === '' ? undefined : Number(text(name));
  const spec: JobSpecInput = { map: text('map'), inputs: inputs ?? parseInputs(text('inputs')) };
  if (text('name')) spec.name = text('name');
  if (text('description')) spec.description = text('description');
  const chunkSize = int('chunkSize');
  const timeoutMs = int('timeoutMs');
  const maxAttempts = int('maxAttempts');
  const priority = int('priority');
  if (chunkSize !== undefined) spec.chunkSize = chunkSize;
  if (timeoutMs !== undefined) spec.timeoutMs = timeoutMs;
  if (maxAttempts !== undefined) spec.maxAttempts = maxAttempts;
  if (priority !== undefined) spec.priority = priority;
  if (text('grid')) spec.grid = text('grid');
  return spec;
}

/**
 * Forgets the token on this browser and starts over from the login: a reload stops every timer,
 * socket and panel at once, which no piecemeal teardown would guarantee.
 */
element('logout').addEventListener('click', () => {
  localStorage.removeItem(TOKEN_KEY);
  socket?.disconnect();
  location.reload();
});

element<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void login(element<HTMLInputElement>('token').value.trim());
});

element<HTMLFormElement>('job-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  // One submit at a time: an upload may take minutes.
  if (!api || button?.disabled) return;
  if (button) button.disabled = true;
  element('upload-status').hidden = true;
  void (async () => {
    if (!api) return;
    try {
      const file = new FormData(form).get('inputsFile');
      const upload =
        file instanceof File && file.size > 0 ? await uploadInputs(api, file) : undefined;
      const spec = readSpec(form, upload && { upload: upload.id });
      const created = await api.submit(spec).catch(async (error: unknown) => {
        // The upload was made for this job only.
        if (upload) await api?.deleteUpload(upload.id).catch(() => undefined);
        throw error;
      });
      showError('submit-error', undefined);
      jobs.set({
        id: created.id,
        status: 'queued',
        items: created.items,
        tasks: created.tasks,
        done: 0,
        failed: 0,
        inFlight: 0,
        priority: spec.priority ?? 0,
        createdAt: new Date().toISOString(),
        ...(spec.name ? { name: spec.name } : {}),
        ...(spec.grid ? { grid: spec.grid } : {}),
      });
    } catch (error) {
      showError('submit-error', error);
    } finally {
      if (button) button.disabled = false;
    }
  })();
});

/** Uploads the chosen file, showing how much of it went up. */
async function uploadInputs(admin: AdminApi, file: File): Promise<UploadSummary> {
  const status = element('upload-status');
  const bar = element<HTMLProgressElement>('upload-progress');
  const text = status.querySelector('span') as HTMLSpanElement;
  const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
  status.hidden = false;
  text.textContent = `uploading ${file.name}…`;
  try {
    const upload = await admin.upload(file, (sent, total) => {
      bar.value = total > 0 ? sent / total : 0;
      text.textContent = `uploading ${file.name}: ${mb(sent)} of ${mb(total)} MB`;
    });
    bar.value = 1;
    text.textContent = `${file.name}: ${upload.items} items uploaded`;
    return upload;
  } catch (error) {
    status.hidden = true;
    throw error;
  }
}

const saved = localStorage.getItem(TOKEN_KEY);
if (saved) void login(saved);
