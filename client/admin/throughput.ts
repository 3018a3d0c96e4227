/**
 * @module A live chart of the grid's throughput (tasks settled per second, all jobs together),
 * drawn with uPlot from the job progress the admin socket pushes. Each second it samples the sum
 * of the jobs' settled tasks; the chart shows the last five minutes.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { JobSummary } from '../../shared/job.ts';

const WINDOW_S = 300;
const SAMPLE_MS = 1_000;

export class ThroughputChart {
  readonly #container: HTMLElement;
  readonly #readout: HTMLElement;
  readonly #times: number[] = [];
  readonly #rates: number[] = [];
  #plot?: uPlot;
  #settled?: number;
  #timer?: ReturnType<typeof setInterval>;

  constructor(container: HTMLElement, readout: HTMLElement) {
    this.#container = container;
    this.#readout = readout;
  }

  /** Samples `jobs()` (the page's live job table) every second. */
  start(jobs: () => Iterable<JobSummary>): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#sample(jobs()), SAMPLE_MS);
  }

  #sample(jobs: Iterable<JobSummary>): void {
    let settled = 0;
    for (const job of jobs) settled += job.done + job.failed;
    const now = Date.now() / 1000;
    // Jobs leave the table only by a reload, so a drop means new data, not negative work.
    const rate =
      this.#settled === undefined ? 0 : Math.max(0, settled - this.#settled) / (SAMPLE_MS / 1000);
    this.#settled = settled;
    this.#times.push(now);
    this.#rates.push(rate);
    while (this.#times.length > 0 && (this.#times[0] as number) < now - WINDOW_S) {
      this.#times.shift();
      this.#rates.shift();
    }
    this.#readout.textContent = `${rate.toFixed(0)} tasks/s`;
    this.#container.dataset['rate'] = String(rate);
    this.#draw();
  }

  #draw(): void {
    // One sample is no line, and uPlot spans its time axis over years for it.
    if (this.#times.length < 2) return;
    const data: uPlot.AlignedData = [this.#times, this.#rates];
    if (this.#plot) {
      this.#plot.setData(data);
      return;
    }
    this.#plot = new uPlot(
      {
        width: Math.max(200, this.#container.clientWidth || 600),
        height: 160,
        legend: { show: false },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{}, { label: 'tasks/s', size: 60 }],
        series: [
          {},
          { label: 'tasks/s', stroke: '#3457d5', fill: 'rgba(52, 87, 213, 0.12)', width: 2 },
        ],
      },
      data,
      this.#container,
    );
  }
}
