/**
 * @module A set of task indices kept as sorted, disjoint ranges: the tasks of a job that no copy
 * has touched yet. A new job is one range, however many tasks it has; a restored one has a range
 * per gap between the tasks settled before the restart. Taking the smallest index is O(1);
 * removing one from the middle (a late result for an untouched task) splits its range.
 */

export class IndexRanges {
  /** Range `k` is `[starts[k], ends[k])`; ranges before `#head` are used up. */
  #starts: number[] = [];
  #ends: number[] = [];
  #head = 0;
  #size = 0;

  /** `ranges` must be sorted, disjoint and non-empty each: `[start, end)`. */
  constructor(ranges: Iterable<readonly [number, number]> = []) {
    for (const [start, end] of ranges) {
      if (end <= start) continue;
      this.#starts.push(start);
      this.#ends.push(end);
      this.#size += end - start;
    }
  }

  get size(): number {
    return this.#size;
  }

  /** Number of ranges: the memory this set costs. */
  get rangeCount(): number {
    return this.#starts.length - this.#head;
  }

  /**
   * Adds the indices `[start, end)`, none of which may be in the set yet (a claimed range arrives
   * once): O(log n) to place it, O(n) to insert, with n ranges, not indices.
   */
  add(start: number, end: number): void {
    if (end <= start) return;
    let low = this.#head;
    let high = this.#starts.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#starts[mid] as number) < start) low = mid + 1;
      else high = mid;
    }
    const before = low - 1;
    const overlaps =
      (before >= this.#head && (this.#ends[before] as number) > start) ||
      (low < this.#starts.length && (this.#starts[low] as number) < end);
    if (overlaps) throw new Error(`[scheduling]: range [${start}, ${end}) is already held`);
    this.#size += end - start;
    if (before >= this.#head && this.#ends[before] === start) {
      this.#ends[before] = end;
      if (low < this.#starts.length && this.#starts[low] === end) {
        this.#ends[before] = this.#ends[low] as number;
        this.#starts.splice(low, 1);
        this.#ends.splice(low, 1);
      }
      return;
    }
    if (low < this.#starts.length && this.#starts[low] === end) {
      this.#starts[low] = start;
      return;
    }
    this.#starts.splice(low, 0, start);
    this.#ends.splice(low, 0, end);
  }

  /** Removes and returns the smallest index, or undefined when empty. */
  shift(): number | undefined {
    if (this.#head === this.#starts.length) return undefined;
    const index = this.#starts[this.#head] as number;
    this.#starts[this.#head] = index + 1;
    this.#size--;
    if (index + 1 === this.#ends[this.#head]) this.#advance();
    return index;
  }

  has(index: number): boolean {
    const k = this.#find(index);
    return k !== undefined;
  }

  /** Removes `index`; false if it was not in the set. */
  delete(index: number): boolean {
    const k = this.#find(index);
    if (k === undefined) return false;
    const start = this.#starts[k] as number;
    const end = this.#ends[k] as number;
    this.#size--;
    if (index === start) this.#starts[k] = start + 1;
    else if (index === end - 1) this.#ends[k] = end - 1;
    else {
      this.#starts.splice(k + 1, 0, index + 1);
      this.#ends.splice(k + 1, 0, end);
      this.#ends[k] = index;
    }
    if (this.#starts[k] === this.#ends[k]) {
      this.#starts.splice(k, 1);
      this.#ends.splice(k, 1);
      this.#compact();
    }
    return true;
  }

  /** The range holding `index`, by binary search over the live ranges. */
  #find(index: number): number | undefined {
    let low = this.#head;
    let high = this.#starts.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (index < (this.#starts[mid] as number)) high = mid - 1;
      else if (index >= (this.#ends[mid] as number)) low = mid + 1;
      else return mid;
    }
    return undefined;
  }

  #advance(): void {
    this.#head++;
    this.#compact();
  }

  /** Drops used-up ranges once they are most of the arrays: amortized O(1). */
  #compact(): void {
    if (this.#head === this.#starts.length) {
      this.#starts = [];
      this.#ends = [];
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#starts.length) {
      this.#starts = this.#starts.slice(this.#head);
      this.#ends = this.#ends.slice(this.#head);
      this.#head = 0;
    }
  }
}
