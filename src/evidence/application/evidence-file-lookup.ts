import type { StoredEvidenceFile } from '../../shared/application/evidence-files.js';
import { EvidenceFiles } from '../../shared/application/evidence-files.js';
import type { AggregateReader } from '../../shared/application/aggregate-reader.js';
import { evidenceFileDecider } from '../domain/evidence-file.decider.js';
import { evidenceFileStreams } from '../domain/evidence.events.js';

const EVIDENCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The EvidenceFiles port (src/shared/application/evidence-files.ts): a file's metadata, read from
 * its stream in the log (the one source, shared by every instance; no read model lag).
 */
export class LogEvidenceFiles extends EvidenceFiles {
  constructor(private readonly aggregates: AggregateReader) {
    super();
  }

  async find(id: string): Promise<StoredEvidenceFile | null> {
    if (typeof id !== 'string' || !EVIDENCE_ID.test(id)) return null;
    const { state } = await this.aggregates.load(evidenceFileStreams.streamOf(id), evidenceFileDecider);
    if (!state.exists) return null;
    return { id: state.evidenceId, sha256: state.sha256, size: state.size, mediaType: state.mediaType, filename: state.filename };
  }
}
