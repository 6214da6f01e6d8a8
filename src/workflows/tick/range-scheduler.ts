// Which runner (the main thread or a worker thread) computes which date of a parallel range.
// Each runner owns a run of consecutive dates and takes them in order, so each date hands its
// prepared day to the next as lookback; a runner that finishes its run takes the back half of
// the largest run left (work stealing), paying one extra lookback read for it. Fixed blocks left
// the runner that started last (a worker thread still loading its modules) finishing last while
// the others idled; stealing lets the runner that is ahead take the rest.
//
// A failing date sets a cutoff: no date at or after the earliest failure is handed out, which is
// what the in-process run computes (it stops at that date).

interface Run {
  next: number;
  end: number;
}

export class RangeScheduler {
  private readonly runs: Run[];
  private cutoff: number;

  constructor(private readonly dates: readonly string[], runners: number) {
    const count = Math.max(1, Math.min(runners, dates.length));
    const total = dates.length;
    this.cutoff = total;
    this.runs = Array.from({ length: runners }, (_, index) =>
      index < count ? { next: Math.floor((index * total) / count), end: Math.floor(((index + 1) * total) / count) } : { next: total, end: total },
    );
  }

  /** The next date for `runner`, stealing when its own run is done; undefined when nothing is left for it. */
  claim(runner: number): string | undefined {
    const own = this.runs[runner] as Run;
    if (Math.min(own.end, this.cutoff) <= own.next) this.steal(runner);
    if (Math.min(own.end, this.cutoff) <= own.next) return undefined;
    const date = this.dates[own.next] as string;
    own.next += 1;
    return date;
  }

  /** No date at or after `date` is handed out any more (it failed). */
  stopAt(date: string): void {
    const index = this.dates.indexOf(date);
    if (index >= 0 && index < this.cutoff) this.cutoff = index;
  }

  /** Whether `date` comes before the earliest failure, so its result is still wanted. */
  wanted(date: string): boolean {
    const index = this.dates.indexOf(date);
    return index >= 0 && index < this.cutoff;
  }

  private remaining(run: Run): number {
    return Math.min(run.end, this.cutoff) - run.next;
  }

  private steal(thief: number): void {
    let victim: Run | undefined;
    for (const [index, run] of this.runs.entries()) {
      // A single date left is not worth a lookback read: its owner starts it next.
      if (index !== thief && this.remaining(run) >= 2 && (!victim || this.remaining(run) > this.remaining(victim))) victim = run;
    }
    if (!victim) return;
    const end = Math.min(victim.end, this.cutoff);
    // The thief pays the lookback read, so it takes the smaller half.
    const middle = victim.next + Math.ceil((end - victim.next) / 2);
    const own = this.runs[thief] as Run;
    own.next = middle;
    own.end = end;
    victim.end = middle;
  }
}
