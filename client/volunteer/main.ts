/**
 * @module The volunteer page: consent and start in one press (remembered, revocable), Pause,
 * cores, a CPU cap, pausing on battery, a nickname for the grid's roster, and what the tab is
 * doing. URL parameters for labs and tests: `?autostart=1` (the machine's operator consents for
 * it), `?cores=N`, `?grid=CODE`.
 */
import { Nickname } from '../../shared/protocol.ts';
import { Outbox } from './outbox.ts';
import { NICKNAME_HINT, plainError } from './plain-errors.ts';
import { VolunteerRuntime, type CurrentJob, type RuntimeStatus } from './runtime.ts';
import { SandboxHost } from './sandbox-host.ts';
import { describeState, jobLabel } from './state-view.ts';

const TAB_ID_KEY = 'browsergrid.tabId';
const CONSENT_KEY = 'browsergrid.consent';
const NICKNAME_KEY = 'browsergrid.nickname';
/**
 * How long a tab that just finished its tasks still shows their job: a busy tab is often empty
 * for a moment between two batches, and "Waiting for work" flashing there would be false.
 */
const SETTLE_MS = 1_500;

/** Parts of the Battery Status API, where the browser has it. */
interface BatteryManager extends EventTarget {
  charging: boolean;
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`[volunteer]: page is missing #${id}`);
  return found as T;
}

/** Writes only a changed text: fewer repaints, and no re-announcing an unchanged live region. */
function show(id: string, text: string): void {
  const el = element(id);
  if (el.textContent !== text) el.textContent = text;
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
const grid = params.get('grid') ?? undefined;
const coresInput = element<HTMLInputElement>('cores');
const nicknameInput = element<HTMLInputElement>('nickname');
const toggle = element<HTMLButtonElement>('toggle');
const defaultCores = Math.max(1, (navigator.hardwareConcurrency || 2) - 1);
coresInput.value = String(clampCores(Number(params.get('cores') ?? defaultCores)));

// The roster that shows a nickname is a grid's; the public page has none to show it on.
nicknameInput.closest('label')?.toggleAttribute('hidden', grid === undefined);
nicknameInput.value = localStorage.getItem(NICKNAME_KEY) ?? '';

let runtime: VolunteerRuntime | undefined;
/** Why the page itself paused the tab (on battery), as opposed to its volunteer. */
let onBattery = false;
/** The jobs last worked on, and when the tab last held any task. */
let recentJobs: readonly CurrentJob[] = [];
let lastBusyAt = Number.NEGATIVE_INFINITY;
let settleTimer: ReturnType<typeof setTimeout> | undefined;
/** A problem the page found itself (a nickname it will not send), shown until the next Start. */
let pageError: string | undefined;

function hasConsent(): boolean {
  return localStorage.getItem(CONSENT_KEY) !== null;
}

function showConsent(): void {
  element('consent').hidden = hasConsent();
  element('withdraw').hidden = !hasConsent();
  if (!runtime) render(undefined);
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

const CONNECTION_TEXT: Record<RuntimeStatus['state'], string> = {
  stopped: 'Not started',
  connecting: 'Connecting…',
  connected: 'Connected',
  disconnected: 'Offline, trying again',
};

/** Keeps the last jobs on screen for SETTLE_MS after the tab runs out of tasks. */
function settle(status: RuntimeStatus | undefined): readonly CurrentJob[] {
  if (status && status.jobs.length > 0) {
    recentJobs = status.jobs;
    lastBusyAt = performance.now();
    return recentJobs;
  }
  const leftMs = lastBusyAt + SETTLE_MS - performance.now();
  if (leftMs <= 0 || !status) return [];
  clearTimeout(settleTimer);
  settleTimer = setTimeout(() => render(runtime?.status), leftMs + 10);
  return recentJobs;
}

let lastLoggedError: RuntimeStatus['lastError'];

function render(status: RuntimeStatus | undefined): void {
  const view = describeState({
    ...(status ? { status } : {}),
    hasConsent: hasConsent(),
    onBattery,
    recentJobs: settle(status),
  });
  const panel = element('state');
  panel.dataset['state'] = view.state;
  show('state-title', view.title);
  show('state-detail', view.detail);
  show('about', view.about ?? '');
  element('about').hidden = view.about === undefined;
  const gridName = status?.gridName;
  show('grid-name', gridName ?? '');
  element('grid').hidden = gridName === undefined;

  const state = status?.state ?? 'stopped';
  const connection = element('connection');
  show(
    'connection',
    status?.pausedBy === 'coordinator'
      ? "Closed: this device is banned by the site's admin"
      : CONNECTION_TEXT[state],
  );
  connection.dataset['paused'] = String(
    (status?.paused ?? false) || status?.adminPaused !== undefined,
  );
  connection.dataset['state'] = state;
  const jobs = status?.jobs ?? [];
  show(
    'jobs',
    jobs.length > 0
      ? jobs
          .map((job) => jobLabel(job) + (job.submittedBy ? ` (for ${job.submittedBy})` : ''))
          .join(', ')
      : '—',
  );
  show('tasks-done', String(status?.done ?? 0));
  show('cpu-given', `${((status?.cpuMs ?? 0) / 1000).toFixed(1)} s`);
  show(
    'cores-busy',
    `${status?.busy ?? 0} of ${status?.cores ?? clampCores(Number(coresInput.value))}`,
  );
  show('unsent', String(status?.unsent ?? 0));
  show(
    'toggle',
    !runtime || state === 'stopped'
      ? hasConsent()
        ? 'Start'
        : 'Agree and start'
      : status?.paused
        ? 'Resume'
        : 'Pause',
  );
  // Refused or blocked, the tab has nothing to pause: the state panel says what to do instead.
  toggle.hidden = view.state === 'refused' || view.state === 'blocked';
  nicknameInput.disabled = runtime !== undefined;

  // Technical text goes to the console for whoever debugs; people read plain words.
  const lastError = status?.lastError;
  if (lastError && lastError !== lastLoggedError) console.warn(lastError.message);
  lastLoggedError = lastError;
  const shown =
    pageError ?? (lastError && view.state !== 'refused' ? plainError(lastError) : undefined);
  element('error').hidden = shown === undefined;
  show('error', shown ?? '');
}

/** The nickname to send, undefined for none; a refused one stops the start, in plain words. */
function readNickname(): { ok: true; nickname?: string } | { ok: false } {
  if (grid === undefined) return { ok: true };
  if (nicknameInput.value.trim() === '') {
    localStorage.removeItem(NICKNAME_KEY);
    return { ok: true };
  }
  const parsed = Nickname.safeParse(nicknameInput.value);
  if (!parsed.success) return { ok: false };
  localStorage.setItem(NICKNAME_KEY, parsed.data);
  return { ok: true, nickname: parsed.data };
}

/** The one button: agree and start, then pause and resume. */
async function start(): Promise<void> {
  if (runtime) {
    if (runtime.status.paused) runtime.resume();
    else runtime.pause();
    return;
  }
  const nickname = readNickname();
  pageError = nickname.ok ? undefined : `That nickname cannot be used. ${NICKNAME_HINT}`;
  if (!nickname.ok) {
    render(undefined);
    nicknameInput.focus();
    return;
  }
  // Pressing the button under the consent text is the consent.
  if (!hasConsent()) localStorage.setItem(CONSENT_KEY, new Date().toISOString());
  showConsent();
  toggle.disabled = true;
  try {
    const sandbox = new SandboxHost();
    runtime = new VolunteerRuntime({
      spawnWorker: () => sandbox.spawn(),
      cores: clampCores(Number(coresInput.value)),
      tabId: tabId(),
      outbox: await Outbox.open(),
      ...(grid ? { grid } : {}),
      ...(nickname.nickname !== undefined ? { nickname: nickname.nickname } : {}),
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
element('withdraw').addEventListener('click', () => {
  localStorage.removeItem(CONSENT_KEY);
  runtime?.stop();
  runtime = undefined;
  showConsent();
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
  void start();
}
