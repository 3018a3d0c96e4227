/**
 * @module How to join a grid, shown to the room: its code, its link (with a warning when the link
 * names this machine, which students' devices cannot reach) and the link as a QR code.
 */
import QRCode from 'qrcode';
import type { GridSummary } from '../../shared/job.ts';
import { part } from './dom.ts';
import { showError } from './show-error.ts';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** About the QR code's shown width in CSS pixels: big enough for a phone across a desk. */
const QR_TARGET_PX = 220;
/** Modules of quiet zone around the code; scanners need some, the card is white anyway. */
const QR_MARGIN = 2;

/** What the page knows of a grid before its first roster arrives (e.g. just created). */
export type GridHead = Pick<GridSummary, 'code' | 'name' | 'joinUrl'>;

export class JoinDetails {
  constructor(private readonly section: HTMLElement) {}

  /**
   * Shows how to join `grid` at once, and its QR code once drawn, unless `isCurrent` says another
   * grid was shown meanwhile.
   */
  show(grid: GridHead, isCurrent: () => boolean): void {
    this.#part('.grid-code').textContent = grid.code;
    const link = this.#part<HTMLAnchorElement>('.grid-link');
    link.href = grid.joinUrl;
    link.textContent = grid.joinUrl;
    const localHost = localHostOf(grid.joinUrl);
    this.#part('.grid-link-warning').hidden = localHost === undefined;
    this.#part('.grid-link-host').textContent = localHost ?? '';
    void this.#drawQr(grid.joinUrl, isCurrent);
  }

  async #drawQr(joinUrl: string, isCurrent: () => boolean): Promise<void> {
    const img = this.#part<HTMLImageElement>('.grid-qr');
    const error = this.#part('.grid-qr-error');
    img.hidden = true;
    try {
      // Whole pixels per module, drawn at twice the shown size: sharp on a projector or a
      // high-DPI screen, where a scaled image would blur or give modules uneven widths.
      const modules = QRCode.create(joinUrl, { errorCorrectionLevel: 'M' }).modules.size;
      const side = modules + 2 * QR_MARGIN;
      const shownScale = Math.max(2, Math.floor(QR_TARGET_PX / side));
      const src = await QRCode.toDataURL(joinUrl, {
        errorCorrectionLevel: 'M',
        margin: QR_MARGIN,
        scale: 2 * shownScale,
      });
      if (!isCurrent()) return;
      img.src = src;
      img.width = img.height = side * shownScale;
      img.hidden = false;
      showError(error, undefined);
    } catch (failure) {
      if (isCurrent()) showError(error, failure);
    }
  }

  #part<T extends HTMLElement = HTMLElement>(selector: string): T {
    return part<T>(this.section, selector, '[grids]');
  }
}

/** The link's host if it is this machine's own name, which students' devices cannot reach. */
function localHostOf(url: string): string | undefined {
  try {
    const { hostname } = new URL(url);
    return LOCAL_HOSTS.has(hostname) ? hostname : undefined;
  } catch {
    return undefined;
  }
}
