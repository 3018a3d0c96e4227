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
import { cells } from './dom.ts';

const TOKEN_KEY = 'browsergrid.adminToken';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`[admin]: page is missing #${id}`);
  return found as T;
}

function showError(id: string, error: unknown): void {
  showErrorIn(element(id), error);
}

const jobs = new Map<string, JobSummary>();
let api: AdminApi | undefined;
let socket: Socket<ServerToAdminEvents, AdminToServerEvents> | undefined;
const timeline = new TimelinePanel(element('timeline'), {
  load: (jobId) =>
    api ? api.tasks(jobId, 0, 200) : Promise.reject(new Error('[admin]: not logged in')),
  finished: (jobId) => {
    const job = jobs.get(jobId);
    return job === undefined || isFinished(job.status);
  },
});
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

interface JobRow {
  tr: HTMLTableRowElement;
  name: HTMLElement;
  id: HTMLElement;
  status: HTMLTableCellElement;
  bar: HTMLProgressElement;
  done: HTMLTableCellElement;
  inFlight: HTMLTableCellElement;
  failed: HTMLTableCellElement;
  cancel: HTMLButtonElement;
}

const rows = new Map<string, JobRow>();

/** Builds a job's row once; later updates only touch its text, so buttons stay clickable. */
function createRow(jobId: string): JobRow {
  const tr = document.createElement('tr');
  tr.dataset['jobId'] = jobId;
  const [nameCell, status, barCell, done, inFlight, failed, actions] = cells(tr, 7) as [
    HTMLTableCellElement,
    HTMLTableCellElement,
    HTMLTableCellElement,
    HTMLTableCellElement,
    HTMLTableCellElement,
    HTMLTableCellElement,
    HTMLTableCellElement,
  ];
  const name = document.createElement('div');
  const id = document.createElement('div');
  id.className = 'muted';
  nameCell.append(name, id);
  const bar = document.createElement('progress');
  barCell.append(bar);
  const cancel = document.createElement('button');
  cancel.className = 'secondary cancel';
  cancel.textContent = 'Cancel';
  cancel.addEventListener('click', () => void cancelJob(jobId));
  const download = document.createElement('button');
  download.className = 'secondary download';
  download.textContent = 'Results';
  download.addEventListener('click', () => void downloadResults(jobId));
  const showTimeline = document.createElement('button');
  showTimeline.className = 'secondary timeline';
  showTimeline.textContent = 'Timeline';
  showTimeline.addEventListener('click', () =>
    timeline.open(jobId, `${jobs.get(jobId)?.name ?? 'untitled'} (${jobId})`),
  );
  actions.append(cancel, ' ', download, ' ', showTimeline);
  return { tr, name, id, status, bar, done, inFlight, failed, cancel };
}

function renderJobs(): void {
  const body = element<HTMLTableSectionElement>('jobs');
  const ordered = [...jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  ordered.forEach((job, position) => {
    let row = rows.get(job.id);
    if (!row) {
      row = createRow(job.id);
      rows.set(job.id, row);
    }
    row.tr.dataset['status'] = job.status;
    row.name.textContent = job.name ?? 'untitled';
    row.id.textContent = job.grid === undefined ? job.id : `${job.id} · grid ${job.grid}`;
    row.status.textContent = job.status;
    row.bar.max = Math.max(1, job.tasks);
    row.bar.value = job.done + job.failed;
    row.done.textContent = `${job.done} / ${job.tasks}`;
    row.inFlight.textContent = String(job.inFlight);
    row.failed.textContent = String(job.failed);
    row.cancel.hidden = !(job.status === 'queued' || job.status === 'running');
    if (body.children[position] !== row.tr)
      body.insertBefore(row.tr, body.children[position] ?? null);
  });
}

async function cancelJob(jobId: string): Promise<void> {
  if (!api) return;
  try {
    jobs.set(jobId, await api.cancel(jobId));
    renderJobs();
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
      jobs.clear();
      for (const job of res.data) jobs.set(job.id, job);
      renderJobs();
    });
  });
  socket.on('disconnect', () => {
    live.textContent = 'reconnecting…';
  });
  socket.on('connect_error', (error) => {
    live.textContent = `not connected: ${error.message}`;
  });
  socket.on('job:progress', (summary) => {
    jobs.set(summary.id, summary);
    renderJobs();
  });
}

async function login(token: string): Promise<boolean> {
  const candidate = new AdminApi(token);
  try {
    const list = await candidate.list();
    api = candidate;
    localStorage.setItem(TOKEN_KEY, token);
    jobs.clear();
    for (const job of list) jobs.set(job.id, job);
    element('submit').hidden = false;
    grids.start(candidate);
    element('jobs-card').hidden = false;
    devices.start(candidate);
    throughput.start(() => jobs.values());
    element('login').hidden = true;
    renderJobs();
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
      jobs.set(created.id, {
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
      renderJobs();
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
