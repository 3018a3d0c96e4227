/**
 * Puts the tiles of a Mandelbrot job (the NDJSON that `browsergrid submit --out` or
 * `browsergrid results` wrote) together into one PNG:
 * `node examples/mandelbrot/assemble.mjs mandelbrot.ndjson mandelbrot.png`.
 * The image is as large as the tiles reach; a tile that failed is an error, not a hole.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

const [input, output = 'mandelbrot.png'] = process.argv.slice(2);
if (!input) {
  process.stderr.write('usage: node examples/mandelbrot/assemble.mjs <results.ndjson> [out.png]\n');
  process.exit(2);
}

const tiles = [];
for (const line of readFileSync(input, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const result = JSON.parse(line);
  if ('error' in result) {
    process.stderr.write(`tile ${result.index} failed: ${result.error}\n`);
    process.exit(1);
  }
  tiles.push(result.output);
}
const width = Math.max(...tiles.map((tile) => tile.x + tile.width));
const height = Math.max(...tiles.map((tile) => tile.y + tile.height));
const png = new PNG({ width, height });
for (const tile of tiles) {
  const rgb = Buffer.from(tile.rgb, 'base64');
  for (let row = 0; row < tile.height; row++) {
    for (let col = 0; col < tile.width; col++) {
      const from = (row * tile.width + col) * 3;
      const to = ((tile.y + row) * width + tile.x + col) * 4;
      png.data[to] = rgb[from];
      png.data[to + 1] = rgb[from + 1];
      png.data[to + 2] = rgb[from + 2];
      png.data[to + 3] = 255;
    }
  }
}
writeFileSync(output, PNG.sync.write(png));
process.stdout.write(`${output}: ${width} x ${height} pixels from ${tiles.length} tiles\n`);
