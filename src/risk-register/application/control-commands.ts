/**
 * recordControlProgress (Art.18, 19): the handler finds the evidence files cited in the evidence
 * store (their SHA-256 goes into the event, so the log pins the exact bytes) and hands the rest to
 * the risk's decider through the common pipeline.
 */
import { Optional } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EvidenceFiles } from '../../shared/application/evidence-files.js';
import { ClientCommand, type Retryable } from '../../shared/application/request-meta.js';
import { BadInputError } from '../../shared/domain/errors.js';
import type { ControlStatus, EvidenceCitation } from '../domain/control-lifecycle.js';
import type { RiskRow } from '../projections/risk-register.projection.js';
import { RiskCommandPipeline } from './risk-commands.js';

export class RecordControlProgressCommand extends ClientCommand<
  Retryable & { riskId: string; controlId: string; status: ControlStatus; progressPercent?: number | null; note?: string | null; evidenceIds?: string[] | null },
  RiskRow
> {}

@CommandHandler(RecordControlProgressCommand)
export class RecordControlProgressHandler implements ICommandHandler<RecordControlProgressCommand, RiskRow> {
  constructor(
    private readonly pipeline: RiskCommandPipeline,
    // Provided globally by the evidence module; without it no evidence can be cited.
    @Optional() private readonly evidenceFiles?: EvidenceFiles,
  ) {}

  execute(command: RecordControlProgressCommand): Promise<RiskRow> {
    const i = command.input;
    return this.pipeline.run(command, async (stamp) => ({
      type: 'RecordControlProgress',
      ...stamp,
      riskId: i.riskId,
      controlId: i.controlId,
      status: i.status,
      progressPercent: i.progressPercent,
      note: i.note,
      evidence: await this.citations(i.evidenceIds ?? []),
    }));
  }

  /** Each evidence id must name a stored file (BAD_USER_INPUT on evidenceIds otherwise). */
  private async citations(evidenceIds: readonly string[]): Promise<EvidenceCitation[]> {
    const ids = [...new Set(evidenceIds)];
    if (ids.length === 0) return [];
    if (!this.evidenceFiles) throw new BadInputError({ evidenceIds: 'cannot be cited: this server keeps no evidence files' });
    const found = await Promise.all(ids.map(async (id) => ({ id, file: await this.evidenceFiles!.find(id) })));
    const missing = found.filter((f) => !f.file).map((f) => f.id);
    if (missing.length > 0) throw new BadInputError({ evidenceIds: `no evidence file ${missing.join(', ')} (upload it with POST /evidence first)` });
    return found.map((f) => ({ evidenceId: f.id, sha256: f.file!.sha256 }));
  }
}
