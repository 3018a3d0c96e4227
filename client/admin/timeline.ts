/**
 * @module The task timeline: one lane per volunteer tab, one bar per copy of a task, coloured by
 * how the copy ended, so the page shows which copy won each task and why the others did not.
 * Plain positioned DOM (percentages of the job's time span): bars stay ordinary elements that
 * tests and tooltips can reach.
 */
import type { TaskTimelinePage, TimelineCopy } from '../../shared/timeline.ts';
import { el } from './dom.ts';

const REFRESH_MS = 1_000;
/** Tasks drawn at once: more lanes and bars than this read as noise, and cost a long fetch. */
export const PAGE_TASKS = 200;

/** What the panel needs from the page: the data, and whether the job can still change. */
export interface TimelineSource {
  /** The copies of tasks `[from, from + limit)`. */
  load(jobId: string, from: number, limit: number): Promise<TaskTimelinePage>;
  finished(jobId: string): boolean;
}

/**
 * The timeline panel for one job at a time: shows it, refreshes it every second while the job
 * runs, and stops its timer when closed or when the job is finished.
 */
export class TimelinePanel {
  #jobId: string | undefined;
  /** First task of the page shown. */
  #from = 0;
  /** The job's task count, as the last page said. */
  #tasks = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on open and close, so a response for an earlier job is not drawn. */
  #generation = 0;

  constructor(
    private readonly section: HTMLElement,
    private readonly source: TimelineSource,
  ) {
    section.querySelector('button.close')?.addEventListener('click', () => this.close());
    section
      .querySelector('button.timeline-earlier')
      ?.addEventListener('click', () => this.#turn(-PAGE_TASKS));
    section
      .querySelector('button.timeline-later')
      ?.addEventListener('click', () => this.#turn(PAGE_TASKS));
  }

  open(jobId: string, title: string): void {
    this.close();
    this.#jobId = jobId;
    this.#from = 0;
    this.#tasks = 0;
    this.#syncPager();
    this.#part('.timeline-title').textContent = title;
    this.#part('.timeline-view').replaceChildren(el('p', 'muted', 'Loading…'));
    this.section.hidden = false;
    this.section.scrollIntoView({ block: 'start' });
    void this.#refresh(this.#generation);
  }

  close(): void {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#jobId = undefined;
    this.section.hidden = true;
  }

  /** Shows the tasks `by` further on (or back), fetched at once. */
  #turn(by: number): void {
    const jobId = this.#jobId;
    if (jobId === undefined) return;
    const from = Math.max(0, Math.min(this.#from + by, this.#lastFrom()));
    if (from === this.#from) return;
    this.#generation++;
    clearTimeout(this.#timer);
    this.#from = from;
    this.#syncPager();
    void this.#refresh(this.#generation);
  }

  #lastFrom(): number {
    return Math.max(0, Math.floor((this.#tasks - 1) / PAGE_TASKS) * PAGE_TASKS);
  }

  #syncPager(): void {
    const pager = this.#part('.timeline-pager');
    pager.hidden = this.#tasks <= PAGE_TASKS;
    const last = Math.min(this.#tasks, this.#from + PAGE_TASKS);
    this.#part('.timeline-range').textContent =
      `tasks ${this.#from}–${Math.max(this.#from, last - 1)} of ${this.#tasks}`;
    this.#part<HTMLButtonElement>('.timeline-earlier').disabled = this.#from === 0;
    this.#part<HTMLButtonElement>('.timeline-later').disabled = this.#from >= this.#lastFrom();
  }

  async #refresh(generation: number): Promise<void> {
    const jobId = this.#jobId;
    if (jobId === undefined) return;
    // Read before the fetch: once the job is seen finished, this fetch holds its last copies.
    const last = this.source.finished(jobId);
    const error = this.#part('.timeline-error');
    try {
      const page = await this.source.load(jobId, this.#from, PAGE_TASKS);
      if (generation !== this.#generation) return;
      this.#tasks = page.tasks;
      this.#syncPager();
      renderTimeline(this.#part('.timeline-view'), page, Date.now());
      error.hidden = true;
    } catch (failure) {
      if (generation !== this.#generation) return;
      error.textContent = failure instanceof Error ? failure.message : String(failure);
      error.hidden = false;
    }
    if (!last) this.#timer = setTimeout(() => void this.#refresh(generation), REFRESH_MS);
  }

  #part<T extends HTMLElement = HTMLElement>(selector: string): T {
    const found = this.section.querySelector<T>(selector);
    if (!found) throw new Error(`[timeline]: panel is missing ${selector}`);
    return found;
  }
}

/** How a copy ended, as the view colours it; also the bar's class. */
export type Outcome =
  | 'won'
  | 'voted'
  | 'superseded'
  | 'expired'
  | 'dropped'
  | 'error'
  | 'cancelled'
  | 'released'
  | 'queued'
  | 'running';

const WHY: Record<Outcome, string> = {
  won: 'its result is the one that committed',
  voted: 'it returned a result that counted as a vote; another copy committed',
  superseded: 'another copy of the task committed first, so this one was called off',
  expired: 'no result or progress within the task timeout',
  dropped: 'its tab left or lost its connection',
  error: 'the map function threw, or the task failed in the tab',
  cancelled: 'the job was cancelled',
  released: 'its tab was paused and handed it back unrun',
  queued: "waiting in its tab's queue, not started yet",
  running: 'still running',
};

const KIND: Record<TimelineCopy['kind'], string> = {
  first: 'first copy',
  retry: 'retry',
  backup: 'backup copy (speculative)',
  replica: 'replica (redundancy)',
};

/** Height of one row of bars; a lane grows a row for each copy its tab held at the same time. */
const ROW_PX = 16;

type Copy = TimelineCopy & { taskIndex: number };

export function outcomeOf(copy: TimelineCopy): Outcome {
  if (copy.won) return 'won';
  // A tab reports each copy as it starts: a live copy without a start still waits its turn.
  if (copy.end === undefined) return copy.startedAt === undefined ? 'queued' : 'running';
  // A result that did not win is a redundancy vote; it is not a failure.
  if (copy.end === 'result') return 'voted';
  return copy.end;
}

/** Fills `container` with a summary line and the lanes; `now` ends the bars still running. */
export function renderTimeline(container: HTMLElement, data: TaskTimelinePage, now: number): void {
  const copies = data.timeline.flatMap(({ taskIndex, copies }) =>
    copies.map((copy): Copy => ({ ...copy, taskIndex })),
  );
  container.replaceChildren(summary(data, copies));
  if (copies.length === 0) {
    container.append(el('p', 'muted', 'No copies dispatched yet.'));
    return;
  }
  // Clocks of page and coordinator may differ: a running bar never ends before its own start.
  const until = (copy: Copy): number =>
    copy.endedAt ?? Math.max(now, copy.startedAt ?? copy.dispatchedAt);
  const start = Math.min(...copies.map((copy) => copy.dispatchedAt));
  const end = Math.max(start + 1, ...copies.map(until));
  const x = (t: number): number => ((t - start) / (end - start)) * 100;

  const chart = el('div', 'timeline-chart');
  chart.append(axis(end - start));
  const byTab = new Map<string, Copy[]>();
  for (const copy of [...copies].sort((a, b) => a.dispatchedAt - b.dispatchedAt)) {
    const tabCopies = byTab.get(copy.volunteerId);
    if (tabCopies) tabCopies.push(copy);
    else byTab.set(copy.volunteerId, [copy]);
  }
  for (const [volunteerId, tabCopies] of byTab) {
    chart.append(lane(volunteerId, tabCopies, x, until));
  }
  container.append(chart);
}

function summary(data: TaskTimelinePage, copies: Copy[]): HTMLElement {
  const backups = copies.filter((copy) => copy.kind === 'backup');
  const parts = [
    `${data.timeline.length} of ${data.tasks} tasks shown`,
    count(copies.length, 'copy', 'copies'),
    count(copies.filter((copy) => copy.kind === 'retry').length, 'retry', 'retries'),
    `${count(backups.length, 'backup')} started, ${backups.filter((copy) => copy.won).length} won`,
  ];
  // Ended copies with a start: how long they queued in their tab against how long they ran.
  const timed = copies.filter((copy) => copy.startedAt !== undefined && copy.endedAt !== undefined);
  if (timed.length > 0) {
    const waits = timed.map((copy) => (copy.startedAt as number) - copy.dispatchedAt);
    const runs = timed.map((copy) => (copy.endedAt as number) - (copy.startedAt as number));
    parts.push(`median wait ${formatMs(median(waits))}, median run ${formatMs(median(runs))}`);
  }
  const waiting = copies.filter((copy) => outcomeOf(copy) === 'queued').length;
  const running = copies.filter((copy) => outcomeOf(copy) === 'running').length;
  if (waiting + running > 0) parts.push(`${running} running, ${waiting} waiting in a tab's queue`);
  return el('p', 'timeline-summary', parts.join(' · '));
}

/** Gridlines at round steps since the first dispatch. */
function axis(spanMs: number): HTMLElement {
  const grid = el('div', 'timeline-grid');
  const step = niceStep(spanMs / 6);
  for (let t = 0; t <= spanMs; t += step) {
    const tick = el('div', 'timeline-tick');
    tick.style.left = `${(t / spanMs) * 100}%`;
    tick.append(el('span', '', formatMs(t)));
    grid.append(tick);
  }
  return grid;
}

function lane(
  volunteerId: string,
  copies: Copy[],
  x: (t: number) => number,
  until: (copy: Copy) => number,
): HTMLElement {
  const row = el('div', 'timeline-lane');
  row.dataset['volunteerId'] = volunteerId;
  const label = el('div', 'timeline-lane-label', shortId(volunteerId));
  label.title = `tab ${volunteerId}`;
  const track = el('div', 'timeline-track');
  // Copies a tab holds at once (prefetched, or on several cores) go on separate rows.
  const rowEnds: number[] = [];
  for (const copy of copies) {
    let slot = rowEnds.findIndex((rowEnd) => rowEnd <= copy.dispatchedAt);
    if (slot === -1) slot = rowEnds.length;
    rowEnds[slot] = until(copy);
    track.append(bar(copy, x, until(copy), slot));
  }
  track.style.height = `${rowEnds.length * ROW_PX}px`;
  row.append(label, track);
  return row;
}

function bar(copy: Copy, x: (t: number) => number, until: number, slot: number): HTMLElement {
  const outcome = outcomeOf(copy);
  const node = el('div', `timeline-bar ${outcome}`);
  node.dataset['task'] = String(copy.taskIndex);
  node.dataset['kind'] = copy.kind;
  node.dataset['end'] = copy.end ?? 'running';
  node.dataset['won'] = String(copy.won);
  node.style.left = `${x(copy.dispatchedAt)}%`;
  node.style.width = `${x(until) - x(copy.dispatchedAt)}%`;
  node.style.top = `${slot * ROW_PX}px`;

  const run = el('div', 'timeline-run');
  // Tasks that finish before the tab's first progress report never report a start: their
  // queued and running time cannot be told apart, so the whole span is drawn striped.
  node.dataset['started'] = String(copy.startedAt !== undefined);
  if (copy.startedAt !== undefined && until > copy.dispatchedAt) {
    run.style.left = `${((copy.startedAt - copy.dispatchedAt) / (until - copy.dispatchedAt)) * 100}%`;
  }
  if (outcome === 'running' && copy.fraction !== undefined) {
    node.dataset['fraction'] = String(copy.fraction);
    const fill = el('div', 'timeline-fill');
    fill.style.width = `${copy.fraction * 100}%`;
    run.append(fill, el('span', '', `${Math.round(copy.fraction * 100)}%`));
  }
  // Still waiting: only the thin queue line is drawn, nothing of it has run.
  run.hidden = outcome === 'queued';
  node.append(el('div', 'timeline-wait'), run);
  node.title = tooltip(copy, outcome, until);
  return node;
}

function tooltip(copy: Copy, outcome: Outcome, until: number): string {
  const timing =
    outcome === 'queued'
      ? `${formatMs(until - copy.dispatchedAt)} waiting, not started`
      : copy.startedAt === undefined
        ? `${formatMs(until - copy.dispatchedAt)} (queued and ran; no start reported)`
        : `${formatMs(until - copy.dispatchedAt)} (queued ${formatMs(copy.startedAt - copy.dispatchedAt)}, ran ${formatMs(until - copy.startedAt)})`;
  const progress =
    outcome === 'running' && copy.fraction !== undefined
      ? `, ${Math.round(copy.fraction * 100)}% done`
      : '';
  return [
    `Task ${copy.taskIndex}: ${KIND[copy.kind]}`,
    `${copy.end === undefined ? (outcome === 'queued' ? 'Queued' : 'Running') : `Ended: ${copy.end}`}${progress}, ${WHY[outcome]}`,
    `Won: ${copy.won ? 'yes' : 'no'}`,
    `${copy.end === undefined ? 'So far' : 'Duration'}: ${timing}`,
  ].join('\n');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Tab ids are `t-<uuid>`, `~<hex>` added for a second connection: the uuid's head suffices. */
export function shortId(id: string): string {
  const [base = id, twin] = id.split('~');
  const head = base.length > 10 ? `${base.slice(0, 10)}…` : base;
  return twin === undefined ? head : `${head}~${twin}`;
}

/** 1, 2 or 5 times a power of ten, at least `rawMs`. */
function niceStep(rawMs: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(rawMs, 1)));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rawMs) ?? 10 * power;
}

export function formatMs(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
