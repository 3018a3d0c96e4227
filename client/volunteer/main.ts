/**
 * @module The volunteer page: consent (asked once, remembered, revocable), Start/Pause, cores, a
 * CPU cap, pausing on battery, and what the tab is doing. URL parameters for labs and tests:
 * `?autostart=1` (the machine's operator consents for it), `?cores=N`, `?grid=CODE`.
 */
import { Outbox } from './outbox.ts';
import { VolunteerRuntime, type RuntimeStatus } from './runtime.ts';
import { SandboxHost } from './sandbox-host.ts';

const TAB_ID_KEY = 'browsergrid.tabId';
const CONSENT_KEY = 'browsergrid.consent';

/** Parts of the Battery Status API, where the browser has it. */
interface BatteryManager extends EventTarget {
  charging: boolean;
}

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
/** Why the page itself paused the tab (on battery), as opposed to its volunteer. */
let onBattery = false;

function hasConsent(): boolean {
  return localStorage.getItem(CONSENT_KEY) !== null;
}

function showConsent(): void {
  element('consent').hidden = hasConsent();
  element('withdraw').hidden = !hasConsent();
}

/**
 * Least time between two renders: a busy tab's status changes hundreds of times a second, and
 * each repaint takes CPU from its tasks. The first change after a quiet spell shows at once.
 */
const RENDER_MS = 250;
let lastRender = Number.NEGATIVE_INFINITY;
let pendingStatus: RuntimeStatus | undefined;

function showStatus(status: RuntimeStatus): void {
  const wait = lastRender + RENDER_MS - performance.now();
  if (wait <= 0 && pendingStatus === undefined) {
    lastRender = performance.now();
    render(status);
    return;
  }
  const scheduled = pendingStatus !== undefined;
  pendingStatus = status;
  if (scheduled) return;
  setTimeout(
    () => {
      const latest = pendingStatus as RuntimeStatus;
      pendingStatus = undefined;
      lastRender = performance.now();
      render(latest);
    },
    Math.max(0, wait),
  );
}

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
  element('jobs').title = status.jobDescriptions.filter(Boolean).join('\n');
  const about = element('about');
  about.textContent = status.jobDescriptions.find(Boolean) ?? '';
  about.hidden = about.textContent === '';
  element('tasks-done').textContent = String(status.done);
  element('cpu-given').textContent = `${(status.cpuMs / 1000).toFixed(1)} s`;
  element('cores-busy').textContent = `${status.busy} of ${status.cores}`;
  element('unsent').textContent = String(status.unsent);
  toggle.textContent = status.state === 'stopped' || status.paused ? 'Start' : 'Pause';
  const error = element('error');
  error.hidden = !status.lastError;
  error.textContent = status.lastError ?? '';
}

async function start(): Promise<void> {
  if (!hasConsent()) {
    element('consent').hidden = false;
    return;
  }
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
      onStatus: showStatus,
    });
    runtime.setDutyCycle(Number(element<HTMLSelectElement>('duty').value));
    await runtime.start();
    void watchBattery();
  } finally {
    toggle.disabled = false;
  }
}

/** Pauses while the device runs on battery, where the Battery Status API exists (Chromium). */
async function watchBattery(): Promise<void> {
  const getBattery = (navigator as Navigator & { getBattery?: () => Promise<BatteryManager> })
    .getBattery;
  if (!getBattery) return;
  const battery = await getBattery.call(navigator);
  const apply = (): void => {
    const shouldPause = element<HTMLInputElement>('battery').checked && !battery.charging;
    if (shouldPause === onBattery || !runtime) return;
    onBattery = shouldPause;
    if (shouldPause) runtime.pause();
    else runtime.resume();
  };
  battery.addEventListener('chargingchange', apply);
  element('battery').addEventListener('change', apply);
  apply();
}

toggle.addEventListener('click', () => void start());
element('agree').addEventListener('click', () => {
  localStorage.setItem(CONSENT_KEY, new Date().toISOString());
  showConsent();
  void start();
});
element('withdraw').addEventListener('click', () => {
  localStorage.removeItem(CONSENT_KEY);
  runtime?.stop();
  runtime = undefined;
  showConsent();
  toggle.textContent = 'Start';
});
element<HTMLSelectElement>('duty').addEventListener('change', (event) => {
  runtime?.setDutyCycle(Number((event.target as HTMLSelectElement).value));
});
coresInput.addEventListener('change', () => {
  const cores = clampCores(Number(coresInput.value));
  coresInput.value = String(cores);
  runtime?.setCores(cores);
});

showConsent();
if (params.get('autostart') === '1') {
  // A lab machine or a test: whoever set up the URL consents for it.
  if (!hasConsent()) localStorage.setItem(CONSENT_KEY, `autostart ${new Date().toISOString()}`);
  showConsent();
  void start();
}
