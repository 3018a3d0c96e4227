/**
 * Throws `darts` random points at the unit square and counts those inside the quarter circle.
 * The random numbers come from a generator seeded by the input, so every tab that runs the same
 * item gets the same answer: what `--redundancy` needs to compare copies.
 *
 * @param {{ seed: number, darts: number }} item
 */
export default function throwDarts({ seed, darts }) {
  // mulberry32: small, fast and good enough for a classroom estimate.
  let state = (seed * 0x9e3779b9) >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let inside = 0;
  for (let i = 0; i < darts; i++) {
    const x = random();
    const y = random();
    if (x * x + y * y <= 1) inside++;
  }
  return { inside, darts };
}
