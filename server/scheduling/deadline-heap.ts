/**
 * @module A binary min-heap of (deadline, key) pairs with lazy deletion: entries whose key was
 * removed or re-armed elsewhere are skipped when popped, so removal is O(1) and the heap never
 * needs a search. push and pop are O(log n). The owner calls `retain` when stale entries pile up,
 * so the heap stays the size of what is live, not of everything pushed within a deadline.
 */
export class DeadlineHeap {
  readonly #deadlines: number[] = [];
  readonly #keys: string[] = [];

  get size(): number {
    return this.#keys.length;
  }

  push(deadline: number, key: string): void {
    this.#deadlines.push(deadline);
    this.#keys.push(key);
    this.#siftUp(this.#keys.length - 1);
  }

  /** Earliest deadline, or undefined when empty. */
  peek(): number | undefined {
    return this.#deadlines[0];
  }

  /** Removes and returns every key whose deadline is <= now, earliest first. */
  popDue(now: number): string[] {
    const due: string[] = [];
    while (this.#keys.length > 0 && (this.#deadlines[0] as number) <= now) {
      due.push(this.#keys[0] as string);
      this.#removeTop();
    }
    return due;
  }

  /** Keeps only the entries `keep` accepts and restores the heap order: O(n). */
  retain(keep: (deadline: number, key: string) => boolean): void {
    let kept = 0;
    for (let i = 0; i < this.#keys.length; i++) {
      const deadline = this.#deadlines[i] as number;
      const key = this.#keys[i] as string;
      if (!keep(deadline, key)) continue;
      this.#deadlines[kept] = deadline;
      this.#keys[kept] = key;
      kept++;
    }
    this.#deadlines.length = kept;
    this.#keys.length = kept;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  #removeTop(): void {
    const lastDeadline = this.#deadlines.pop() as number;
    const lastKey = this.#keys.pop() as string;
    if (this.#keys.length === 0) return;
    this.#deadlines[0] = lastDeadline;
    this.#keys[0] = lastKey;
    this.#siftDown(0);
  }

  #siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.#deadlines[parent] as number) <= (this.#deadlines[i] as number)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #siftDown(index: number): void {
    const n = this.#keys.length;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && (this.#deadlines[left] as number) < (this.#deadlines[smallest] as number))
        smallest = left;
      if (right < n && (this.#deadlines[right] as number) < (this.#deadlines[smallest] as number))
        smallest = right;
      if (smallest === i) return;
      this.#swap(i, smallest);
      i = smallest;
    }
  }

  #swap(a: number, b: number): void {
    const d = this.#deadlines[a] as number;
    this.#deadlines[a] = this.#deadlines[b] as number;
    this.#deadlines[b] = d;
    const k = this.#keys[a] as string;
    this.#keys[a] = this.#keys[b] as string;
    this.#keys[b] = k;
  }
}
