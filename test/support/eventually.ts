/**
 * Waits until `condition` holds, looking every `everyMs`; after `ms` it fails naming `what`.
 *
 * The deadline only catches a hang: 20 s by default, under the suite's 30 s test timeout so that
 * the failure still names what never came. Waits of a few seconds counted in polls (2,000 x 2 ms)
 * were the only thing between a slow CI machine and a failure, and when they ran out silently the
 * next expectation failed with a misleading message (the integrity monitor's sweep, 2026-12-02).
 */
export async function eventually(what: string, condition: () => boolean | Promise<boolean>, ms = 20_000, everyMs = 5): Promise<void> {
  for (const deadline = Date.now() + ms; !(await condition()); ) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
