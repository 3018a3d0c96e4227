/**
 * Renders one tile of the Mandelbrot set. Input `n` is a tile number: the image is WIDTH x HEIGHT
 * pixels cut into TILE x TILE tiles, numbered row by row, so `--range 0:96` covers it all. The
 * output is the tile's place and its pixels as base64 RGB, which `assemble.mjs` puts together.
 */
const WIDTH = 768;
const HEIGHT = 512;
const TILE = 64;
/** The part of the complex plane shown: real parts from X_MIN, 3 units wide; imaginary -1..1. */
const X_MIN = -2.25;
const Y_MAX = 1;
const UNITS_PER_PIXEL = 3 / WIDTH;
const MAX_ITERATIONS = 500;

/** Iterations before z escapes (smoothed, so bands blend), or -1 inside the set. */
function escapeTime(cx, cy) {
  let x = 0;
  let y = 0;
  for (let i = 0; i < MAX_ITERATIONS; i++) {
    const xx = x * x;
    const yy = y * y;
    if (xx + yy > 256) return i + 1 - Math.log2(Math.log2(xx + yy) / 2);
    y = 2 * x * y + cy;
    x = xx - yy + cx;
  }
  return -1;
}

/** A colour for an escape time: black inside the set, blue to gold outside. */
function colour(t) {
  if (t < 0) return [0, 0, 0];
  const s = Math.sqrt(t / MAX_ITERATIONS);
  const wave = (phase) => Math.round(127.5 * (1 + Math.cos(2 * Math.PI * (4 * s + phase))));
  return [wave(0.55), wave(0.7), wave(0.95)];
}

export default function renderTile(n, ctx) {
  const columns = WIDTH / TILE;
  const x0 = (n % columns) * TILE;
  const y0 = Math.floor(n / columns) * TILE;
  if (y0 >= HEIGHT) throw new RangeError(`tile ${n} is outside the image`);
  const rgb = new Uint8Array(TILE * TILE * 3);
  for (let row = 0; row < TILE; row++) {
    const cy = Y_MAX - (y0 + row) * UNITS_PER_PIXEL;
    for (let col = 0; col < TILE; col++) {
      const cx = X_MIN + (x0 + col) * UNITS_PER_PIXEL;
      rgb.set(colour(escapeTime(cx, cy)), (row * TILE + col) * 3);
    }
    ctx.progress((row + 1) / TILE);
  }
  // Outputs are JSON: bytes travel as base64 (btoa takes one char per byte).
  let binary = '';
  for (const byte of rgb) binary += String.fromCharCode(byte);
  return { x: x0, y: y0, width: TILE, height: TILE, rgb: btoa(binary) };
}
