/**
 * A task that runs one at a time, where requests during a run are folded into one more run after it
 * (a listing or a reconcile reads the latest state when it starts, so one rerun serves them all).
 * Every caller's promise settles once a run that started after its request has ended.
 */
export class CoalescedRun {
  private current: Promise<void> | undefined;
  private again = false;

  constructor(private readonly task: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.current) {
      this.again = true;
      return this.current;
    }
    this.current = (async () => {
      do {
        this.again = false;
        await this.task();
      } while (this.again);
    })().finally(() => (this.current = undefined));
    return this.current;
  }
}
