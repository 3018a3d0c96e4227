/**
 * @module The devices section: every browser with a tab on any node or a ban, and those judged
 * last, with its adaptive-trust standing (agreed results in a row, disagreements) and a ban
 * switch. A device caught disagreeing shows here as distrusted.
 */
import type { DeviceView } from '../../shared/devices.ts';
import type { AdminApi } from './api.ts';
import { ApiError } from './api.ts';
import { cells, labelCells } from './dom.ts';

const REFRESH_MS = 2_000;

interface Row {
  tr: HTMLTableRowElement;
  tabs: HTMLTableCellElement;
  standing: HTMLTableCellElement;
  streak: HTMLTableCellElement;
  disagreements: HTMLTableCellElement;
  toggle: HTMLButtonElement;
  error: HTMLSpanElement;
}

export function standingOf(device: DeviceView): 'banned' | 'trusted' | 'distrusted' | 'new' {
  if (device.banned) return 'banned';
  if (device.trusted) return 'trusted';
  return device.disagreements > 0 ? 'distrusted' : 'new';
}

export class DevicesPanel {
  readonly #section: HTMLElement;
  readonly #body: HTMLTableSectionElement;
  readonly #rows = new Map<string, Row>();
  #api?: AdminApi;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(section: HTMLElement) {
    this.#section = section;
    const body = section.querySelector('tbody');
    if (!body) throw new Error('[admin]: the devices section has no table body');
    this.#body = body;
  }

  start(api: AdminApi): void {
    this.#api = api;
    this.#section.hidden = false;
    clearInterval(this.#timer);
    this.#timer = setInterval(() => void this.refresh(), REFRESH_MS);
    void this.refresh();
  }

  async refresh(): Promise<void> {
    if (!this.#api) return;
    const devices = await this.#api.devices().catch(() => undefined);
    if (!devices) return;
    devices.sort((a, b) => b.tabs - a.tabs || a.deviceId.localeCompare(b.deviceId));
    devices.forEach((device, position) => {
      const row = this.#rows.get(device.deviceId) ?? this.#createRow(device.deviceId);
      const standing = standingOf(device);
      row.tr.dataset['standing'] = standing;
      row.tabs.textContent = String(device.tabs);
      row.standing.textContent = standing;
      row.streak.textContent = String(device.streak);
      row.disagreements.textContent = String(device.disagreements);
      row.toggle.textContent = device.banned ? 'Unban' : 'Ban';
      row.toggle.dataset['action'] = device.banned ? 'unban' : 'ban';
      if (this.#body.children[position] !== row.tr) {
        this.#body.insertBefore(row.tr, this.#body.children[position] ?? null);
      }
    });
    const table = this.#body.closest('table');
    if (table) {
      labelCells(table);
      table.hidden = devices.length === 0;
    }
    const empty = this.#section.querySelector<HTMLElement>('.devices-empty');
    if (empty) empty.hidden = devices.length > 0;
  }

  #createRow(deviceId: string): Row {
    const tr = document.createElement('tr');
    tr.dataset['deviceId'] = deviceId;
    const [id, tabs, standing, streak, disagreements, actions] = cells(tr, 6) as [
      HTMLTableCellElement,
      HTMLTableCellElement,
      HTMLTableCellElement,
      HTMLTableCellElement,
      HTMLTableCellElement,
      HTMLTableCellElement,
    ];
    id.textContent = deviceId.length > 14 ? `${deviceId.slice(0, 14)}…` : deviceId;
    id.title = deviceId;
    const toggle = document.createElement('button');
    toggle.className = 'secondary toggle';
    const error = document.createElement('span');
    error.className = 'error';
    toggle.addEventListener('click', () => void this.#toggle(deviceId, toggle, error));
    actions.append(toggle, ' ', error);
    const row = { tr, tabs, standing, streak, disagreements, toggle, error };
    this.#rows.set(deviceId, row);
    return row;
  }

  async #toggle(
    deviceId: string,
    toggle: HTMLButtonElement,
    error: HTMLSpanElement,
  ): Promise<void> {
    if (!this.#api) return;
    toggle.disabled = true;
    error.textContent = '';
    try {
      await this.#api.setBanned(deviceId, toggle.dataset['action'] === 'ban');
      await this.refresh();
    } catch (caught) {
      error.textContent = caught instanceof ApiError ? caught.message : String(caught);
    } finally {
      toggle.disabled = false;
    }
  }
}
