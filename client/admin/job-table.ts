/**
 * @module The jobs list: newest first, a page at a time, filtered by status. A failed job is
 * marked and shows its first errors beneath it (fetched once per change of its failed count);
 * each job tells when it was created and how long it took or has taken.
 */
import { isFinished, type JobSummary } from '../../shared/job.ts';
import type { JobErrors } from '../../shared/job-errors.ts';
import { cells, el, formatClock, labelCells, part } from './dom.ts';
import { describeDuration, jobLabel, plainError } from './job-time.ts';

/** Jobs on one page of the list: a projector shows them without scrolling. */
export const PAGE_JOBS = 10;
/** Error lines shown under a failed job; the rest are in its results download. */
const SHOWN_ERRORS = 3;

export const JOB_FILTERS = ['all', 'active', 'failed', 'finished'] as const;
export type JobFilter = (typeof JOB_FILTERS)[number];

const FILTER_TEST: Record<JobFilter, (job: JobSummary) => boolean> = {
  all: () => true,
  active: (job) => !isFinished(job.status),
  failed: (job) => job.status === 'failed' || job.failed > 0,
  finished: (job) => isFinished(job.status),
};

const EMPTY: Record<JobFilter, string> = {
  all: 'No jobs yet. Submit one above, or from a terminal: npx browsergrid submit --map square.js --range 0:1000',
  active: 'Nothing queued or running.',
  failed: 'No failed jobs.',
  finished: 'No finished jobs yet.',
};

/** What a row's buttons do; `errors` fetches a job's first errors. */
export interface JobActions {
  cancel(jobId: string): void;
  download(jobId: string): void;
  timeline(jobId: string, title: string): void;
  errors(jobId: string, limit: number): Promise<JobErrors>;
}

interface JobRow {
  tr: HTMLTableRowElement;
  name: HTMLElement;
  id: HTMLElement;
  status: HTMLElement;
  bar: HTMLProgressElement;
  done: HTMLElement;
  created: HTMLElement;
  duration: HTMLElement;
  inFlight: HTMLTableCellElement;
  failed: HTMLTableCellElement;
  cancel: HTMLButtonElement;
  /** The row under a failing job that lists its first errors. */
  errorsRow: HTMLTableRowElement;
  errorsList: HTMLElement;
  /**
   * What the shown errors were fetched for: the failed count up to `SHOWN_ERRORS`, and whether
   * the job had finished. Past that count the first errors rarely change, so a job failing by
   * the thousand costs a few fetches, not one per progress event.
   */
  errorsFor: string;
  /** Failed tasks the shown errors cover. */
  shownTasks: number;
  errorsMore: HTMLElement;
}

export class JobTable {
  readonly #jobs = new Map<string, JobSummary>();
  readonly #rows = new Map<string, JobRow>();
  #page = 0;
  #filter: JobFilter = 'all';

  constructor(
    private readonly section: HTMLElement,
    private readonly actions: JobActions,
  ) {
    const filter = this.#part<HTMLSelectElement>('.job-filter');
    filter.addEventListener('change', () => {
      this.#filter = (JOB_FILTERS as readonly string[]).includes(filter.value)
        ? (filter.value as JobFilter)
        : 'all';
      this.#page = 0;
      this.render();
    });
    this.#part('.job-newer').addEventListener('click', () => this.#turn(-1));
    this.#part('.job-older').addEventListener('click', () => this.#turn(1));
  }

  get(jobId: string): JobSummary | undefined {
    return this.#jobs.get(jobId);
  }

  /** Replaces every job (a fresh list from the server). */
  replace(jobs: readonly JobSummary[]): void {
    this.#jobs.clear();
    for (const job of jobs) this.#jobs.set(job.id, job);
    this.render();
  }

  set(job: JobSummary): void {
    this.#jobs.set(job.id, job);
    this.render();
  }

  all(): IterableIterator<JobSummary> {
    return this.#jobs.values();
  }

  /** Any job still queued or running, whose duration moves on by itself. */
  hasActive(): boolean {
    return [...this.#jobs.values()].some((job) => !isFinished(job.status));
  }

  /** Draws the current page; rows are built once and moved, so their buttons stay clickable. */
  render(nowMs = Date.now()): void {
    const body = this.#part<HTMLTableSectionElement>('#jobs');
    const matching = [...this.#jobs.values()]
      .filter(FILTER_TEST[this.#filter])
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const pages = Math.max(1, Math.ceil(matching.length / PAGE_JOBS));
    this.#page = Math.min(this.#page, pages - 1);
    const first = this.#page * PAGE_JOBS;
    const shown = matching.slice(first, first + PAGE_JOBS);
    const wanted: HTMLTableRowElement[] = [];
    for (const job of shown) {
      const row = this.#rows.get(job.id) ?? this.#createRow(job.id);
      this.#fill(row, job, nowMs);
      wanted.push(row.tr);
      if (!row.errorsRow.hidden) wanted.push(row.errorsRow);
    }
    wanted.forEach((tr, position) => {
      if (body.children[position] !== tr) body.insertBefore(tr, body.children[position] ?? null);
    });
    while (body.children.length > wanted.length) body.lastElementChild?.remove();
    labelCells(this.#part<HTMLTableElement>('.jobs-table'));

    this.#part('.jobs-table').hidden = shown.length === 0;
    const empty = this.#part('.jobs-empty');
    empty.hidden = shown.length > 0;
    empty.textContent = EMPTY[this.#filter];
    const pager = this.#part('.job-pager');
    pager.hidden = matching.length <= PAGE_JOBS;
    this.#part('.job-range').textContent =
      matching.length === 0 ? '' : `${first + 1}–${first + shown.length} of ${matching.length}`;
    this.#part<HTMLButtonElement>('.job-newer').disabled = this.#page === 0;
    this.#part<HTMLButtonElement>('.job-older').disabled = this.#page >= pages - 1;
  }

  #turn(by: number): void {
    this.#page = Math.max(0, this.#page + by);
    this.render();
  }

  #fill(row: JobRow, job: JobSummary, nowMs: number): void {
    row.tr.dataset['status'] = job.status;
    row.tr.classList.toggle('has-failures', job.failed > 0);
    row.name.textContent = jobLabel(job);
    row.name.classList.toggle('untitled', job.name === undefined);
    row.id.textContent = job.grid === undefined ? job.id : `${job.id} · grid ${job.grid}`;
    row.status.textContent = job.status;
    row.status.className = `job-status ${job.status}`;
    row.bar.max = Math.max(1, job.tasks);
    row.bar.value = job.done + job.failed;
    row.done.textContent = `${job.done} / ${job.tasks}`;
    row.created.textContent = formatClock(job.createdAt);
    row.created.title = new Date(job.createdAt).toLocaleString();
    row.duration.textContent = describeDuration(job, nowMs);
    row.inFlight.textContent = String(job.inFlight);
    row.failed.textContent = String(job.failed);
    row.cancel.hidden = isFinished(job.status);
    const errorsFor = `${Math.min(job.failed, SHOWN_ERRORS)}|${isFinished(job.status)}`;
    if (job.failed > 0 && row.errorsFor !== errorsFor) {
      row.errorsFor = errorsFor;
      void this.#loadErrors(row, job.id);
    }
    const more = job.failed - row.shownTasks;
    row.errorsMore.hidden = row.shownTasks === 0 || more <= 0;
    row.errorsMore.textContent = `…and ${more} more failed ${more === 1 ? 'task' : 'tasks'}: see the results download`;
    row.errorsRow.hidden = job.failed === 0;
  }

  async #loadErrors(row: JobRow, jobId: string): Promise<void> {
    const asked = row.errorsFor;
    try {
      const answer = await this.actions.errors(jobId, SHOWN_ERRORS);
      if (row.errorsFor !== asked) return;
      const items = answer.errors.map((line) => {
        const li = el('li', 'job-error');
        li.append(el('span', 'error-item', `item ${line.index}`), ' ', plainError(line.error));
        return li;
      });
      row.shownTasks = new Set(answer.errors.map((line) => line.taskIndex)).size;
      row.errorsList.replaceChildren(...items, row.errorsMore);
      const job = this.#jobs.get(jobId);
      if (job) this.#fill(row, job, Date.now());
    } catch (failure) {
      if (row.errorsFor !== asked) return;
      row.errorsFor = '';
      row.errorsList.replaceChildren(
        el('li', 'muted', `Errors could not be read: ${plainError(String(failure))}`),
      );
    }
  }

  #createRow(jobId: string): JobRow {
    const tr = document.createElement('tr');
    tr.dataset['jobId'] = jobId;
    tr.className = 'job';
    const [nameCell, statusCell, barCell, timeCell, inFlight, failed, actions] = cells(tr, 7) as [
      HTMLTableCellElement,
      HTMLTableCellElement,
      HTMLTableCellElement,
      HTMLTableCellElement,
      HTMLTableCellElement,
      HTMLTableCellElement,
      HTMLTableCellElement,
    ];
    const name = el('div', 'job-name');
    const id = el('div', 'muted job-id');
    nameCell.append(name, id);
    const status = el('span', 'job-status');
    statusCell.append(status);
    const bar = document.createElement('progress');
    const done = el('span', 'job-done');
    barCell.append(bar, ' ', done);
    const created = el('div', 'job-created');
    const duration = el('div', 'muted job-duration');
    timeCell.append(created, duration);
    failed.className = 'job-failed';
    actions.className = 'job-actions';
    const button = (className: string, text: string, onClick: () => void): HTMLButtonElement => {
      const node = el('button', `secondary ${className}`, text);
      node.type = 'button';
      node.addEventListener('click', onClick);
      return node;
    };
    const cancel = button('cancel', 'Cancel', () => this.actions.cancel(jobId));
    actions.append(
      cancel,
      button('download', 'Results', () => this.actions.download(jobId)),
      button('timeline', 'Timeline', () => {
        const job = this.#jobs.get(jobId);
        this.actions.timeline(jobId, `${job ? jobLabel(job) : jobId} (${jobId})`);
      }),
    );

    const errorsRow = document.createElement('tr');
    errorsRow.className = 'job-errors-row';
    errorsRow.dataset['errorsFor'] = jobId;
    errorsRow.hidden = true;
    const errorsCell = errorsRow.insertCell();
    errorsCell.colSpan = 7;
    const errorsList = el('ul', 'job-errors');
    errorsList.append(el('li', 'muted', 'Loading its errors…'));
    const errorsMore = el('li', 'muted job-errors-more');
    errorsMore.hidden = true;
    errorsCell.append(errorsList);

    const row: JobRow = {
      tr,
      name,
      id,
      status,
      bar,
      done,
      created,
      duration,
      inFlight,
      failed,
      cancel,
      errorsRow,
      errorsList,
      errorsFor: '',
      shownTasks: 0,
      errorsMore,
    };
    this.#rows.set(jobId, row);
    return row;
  }

  #part<T extends HTMLElement = HTMLElement>(selector: string): T {
    return part<T>(this.section, selector, '[jobs]');
  }
}
