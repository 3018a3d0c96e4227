/**
 * Throws `darts` random points at the unit square and counts those inside the quarter circle.
 * The random numbers come from a generator seeded by the input, so every tab that runs the same
 * item gets the same answer: what `redundancy` needs to compare copies.
 *
 * @param {{ seed: number, darts: number }} item
 */
export default function throwDarts({ seed, darts }) {
  const random = xoshiro128ss(seed);
  let inside = 0;
  for (let i = 0; i < darts; i++) {
    const x = random();
    const y = random();
    if (x * x + y * y <= 1) inside++;
  }
  return { inside, darts };
}

/**
 * xoshiro128** (Blackman and Vigna), its 128-bit state filled by splitmix32 from the seed: a
 * period of 2^128 - 1, so items with different seeds draw from streams that never overlap in
 * practice (a generator with 32 bits of state, such as mulberry32, would make 100 streams of
 * two million draws overlap). Returns numbers in [0, 1).
 */
function xoshiro128ss(seed) {
  let s = seed >>> 0;
  const splitmix32 = () => {
    s = (s + 0x9e3779b9) | 0;
    let t = s ^ (s >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
  let a = splitmix32();
  let b = splitmix32();
  let c = splitmix32();
  let d = splitmix32();
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9);
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return (r >>> 0) / 4294967296;
  };
}

function rotl(x, k) {
  return (x << k) | (x >>> (32 - k));
}
