/**
 * @module The volunteer page: Start/Pause, cores, and what the tab is doing. URL parameters for
 * labs and tests: `?autostart=1`, `?cores=N`, `?grid=CODE`.
 */
import { Outbox } from './outbox.ts';
import { VolunteerRuntime, type RuntimeStatus } from './runtime.ts';
import { SandboxHost } from './sandbox-host.ts';

const TAB_ID_KEY = 'browsergrid.tabId';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`[volunteer]: page is missing #${id}`);
  return found as T;
}

/** Per tab and kept across reloads (sessionStorage), so a reloaded tab is the same volunteer. */
function tabId(): string {
  let id = sessionStorage.getItem(TAB_ID_KEY);
  if (!id) {
    id = `t-${crypto.randomUUID()}`;
    sessionStorage.setItem(TAB_ID_KEY, id);
  }
  return id;
}

function clampCores(value: number): number {
  return Math.min(64, Math.max(1, Number.isFinite(value) ? Math.floor(value) : 1));
}

const params = new URLSearchParams(location.search);
const coresInput = element<HTMLInputElement>('cores');
const toggle = element<HTMLButtonElement>('toggle');
const defaultCores = Math.max(1, (navigator.hardwareConcurrency || 2) - 1);
coresInput.value = String(clampCores(Number(params.get('cores') ?? defaultCores)));

let runtime: VolunteerRuntime | undefined;

function render(status: RuntimeStatus): void {
  const connection = element('connection');
  connection.textContent = status.adminPaused
    ? `${status.state}, ${status.adminPaused}`
    : status.paused
      ? `${status.state}, paused`
      : status.state;
  connection.dataset['paused'] = String(status.paused || status.adminPaused !== undefined);
  connection.dataset['state'] = status.state;
  element('jobs').textContent = status.jobNames.length > 0 ? status.jobNames.join(', ') : '—';
  element('tasks-done').textContent = String(status.done);
  element('cores-busy').textContent = `${status.busy} of ${status.cores}`;
  element('unsent').textContent = String(status.unsent);
  toggle.textContent = status.state === 'stopped' || status.paused ? 'Start' : 'Pause';
  const error = element('error');
  error.hidden = !status.lastError;
  error.textContent = status.lastError ?? '';
}

async function start(): Promise<void> {
  if (runtime) {
    if (runtime.status.paused) runtime.resume();
    else runtime.pause();
    return;
  }
  toggle.disabled = true;
  try {
    const grid = params.get('grid') ?? undefined;
    const sandbox = new SandboxHost();
    runtime = new VolunteerRuntime({
      spawnWorker: () => sandbox.spawn(),
      cores: clampCores(Number(coresInput.value)),
      tabId: tabId(),
      outbox: await Outbox.open(),
      ...(grid ? { grid } : {}),
      onStatus: render,
    });
    await runtime.start();
  } finally {
    toggle.disabled = false;
  }
}

toggle.addEventListener('click', () => void start());
coresInput.addEventListener('change', () => {
  const cores = clampCores(Number(coresInput.value));
  coresInput.value = String(cores);
  runtime?.setCores(cores);
});

if (params.get('autostart') === '1') void start();
