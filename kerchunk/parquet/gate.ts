/**
 * At most `tasks` tasks, holding at most `rows` rows between them, run at once; the others wait
 * in order (a task of more rows than `rows` runs alone).
 */
export class Gate {
  private running = 0;
  private held = 0;
  private readonly waiting: Array<{ readonly rows: number; readonly start: () => void }> = [];

  constructor(
    private readonly tasks: number,
    private readonly rows: number,
  ) {}

  async run<T>(rows: number, task: () => Promise<T>): Promise<T> {
    const weight = Math.min(Math.max(rows, 1), this.rows);
    if (this.waiting.length === 0 && this.fits(weight)) {
      this.running++;
      this.held += weight;
    } else {
      await new Promise<void>((start) => this.waiting.push({ rows: weight, start })); // counted by admit()
    }
    try {
      return await task();
    } finally {
      this.running--;
      this.held -= weight;
      this.admit();
    }
  }

  private fits(rows: number): boolean {
    return this.running < this.tasks && this.held + rows <= this.rows;
  }

  /** Starts waiting tasks from the head while they fit, counting them as they start. */
  private admit(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0] as { readonly rows: number; readonly start: () => void };
      if (!this.fits(next.rows)) break;
      this.waiting.shift();
      this.running++;
      this.held += next.rows;
      next.start();
    }
  }
}
