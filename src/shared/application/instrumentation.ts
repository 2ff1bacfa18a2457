import { DomainError } from '../domain/errors.js';

/**
 * What the command pipeline reports, for metrics. The platform hands an implementation to the
 * CommandExecutor (src/platform/observability/metrics.ts); without one nothing is measured.
 */

export interface CommandInstrumentation {
  /**
   * One command through the pipeline. `type` is the decider's command type (`RegisterAsset`), or
   * `unknown` when it was refused before it was built (an auditor's token, a broken log);
   * `result` is `ok` or the error code (`RULE_VIOLATION`, `NOT_FOUND`…; `INTERNAL` for anything else).
   */
  commandFinished(sample: { type: string; result: string; seconds: number }): void;
}

export const NO_COMMAND_INSTRUMENTATION: CommandInstrumentation = { commandFinished: () => {} };

/** The label of an error: a domain error's code, or INTERNAL. */
export function resultOf(error: unknown): string {
  return error instanceof DomainError ? error.code : 'INTERNAL';
}
