/**
 * The organisation's context (Art. 12(1): 組織内外の状況): the internal and external issues that
 * bear on the safe management of information, and the interested parties, within a scope and a
 * period. One context per installation (one exchange), kept as numbered versions: the version in
 * force at an instant is the last one recorded by then.
 */
import { streamCategory } from '../../shared/domain/guards.js';

/** The context's one id (GraphQL Context.id, history(id)); its stream is `context-organisation`. */
export const CONTEXT_ID = 'organisation';
export const contextStreams = streamCategory('context');
export const CONTEXT_STREAM = contextStreams.streamOf(CONTEXT_ID);

export interface ContextVersion {
  version: number;
  period: string;
  scope: string;
  internalIssues: string[];
  externalIssues: string[];
  interestedParties: string[];
  recordedBy: string;
  recordedAt: string;
}

export interface ContextState {
  /** Number of the newest version; 0 before the first. */
  version: number;
  /** Every version, oldest first (a handful a year). */
  versions: ContextVersion[];
}

/** The version in force (the newest one), or undefined before the first. */
export function currentContext(state: ContextState): ContextVersion | undefined {
  return state.versions[state.versions.length - 1];
}
