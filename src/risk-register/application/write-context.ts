import { Injectable } from '@nestjs/common';
import { assetDecider, assetStreamId } from '../../asset-inventory/domain/asset.decider.js';
import type { AssetState } from '../../asset-inventory/domain/asset.state.js';
import { BUILTIN_CATALOGUE } from '../../baseline-catalogues/domain/builtin-catalogue.js';
import { catalogueDecider, catalogueStreamId } from '../../baseline-catalogues/domain/catalogue.decider.js';
import type { BaselineCatalogueState } from '../../baseline-catalogues/domain/catalogue.state.js';
import { criteriaDecider, criteriaInForce, criteriaStreamId } from '../../risk-criteria/domain/criteria.decider.js';
import type { CriteriaVersionState } from '../../risk-criteria/domain/criteria.state.js';
import { AggregateReader } from '../../shared/application/aggregate-reader.js';
import type { AttemptReader } from '../../shared/application/command-executor.js';
import { incidentDecider } from '../../incidents/domain/incident.decider.js';
import { incidentStreamId } from '../../incidents/domain/incident.state.js';

/**
 * What a risk command needs to know besides the risk itself, read from the log (the source of
 * truth), not from read models that may lag: the assets, the criteria in force, a catalogue.
 * A command passes its attempt's reader, so that each stream a rule looks at is appended at the
 * version read (command-executor.ts); without one, the streams are read as they stand.
 */
@Injectable()
export class RiskWriteContext {
  private readonly direct: AttemptReader;

  constructor(private readonly aggregates: AggregateReader) {
    this.direct = { state: async (streamId, decider) => (await aggregates.load(streamId, decider)).state };
  }

  /**
   * The incidents at other firms (Art.15(3)) among these ids that are recorded, from their streams'
   * first event: incidents are never deleted, so existence needs no version check.
   */
  async recordedIncidents(incidentIds: readonly unknown[]): Promise<string[]> {
    const ids = [...new Set(incidentIds.filter((id): id is string => typeof id === 'string' && id.length > 0 && id.length <= 200))];
    const found = await Promise.all(ids.map(async (id) => ((await this.aggregates.load(incidentStreamId(id), incidentDecider, 0)).state.exists ? id : null)));
    return found.filter((id): id is string => id !== null);
  }

  /** The assets that exist, in the order asked (a missing id is simply absent). */
  async assets(assetIds: readonly unknown[], reader: AttemptReader = this.direct): Promise<AssetState[]> {
    const ids = [...new Set(assetIds.filter((id): id is string => typeof id === 'string' && id.length > 0 && id.length <= 200))];
    const states = await Promise.all(ids.map((id) => reader.state(assetStreamId(id), assetDecider)));
    return states.filter((s) => s.exists);
  }

  async criteriaInForce(reader: AttemptReader = this.direct): Promise<CriteriaVersionState | undefined> {
    return criteriaInForce(await reader.state(criteriaStreamId(), criteriaDecider));
  }

  async catalogue(catalogueId: string | undefined | null, reader: AttemptReader = this.direct): Promise<BaselineCatalogueState | undefined> {
    if (!catalogueId) return undefined;
    if (catalogueId === BUILTIN_CATALOGUE.id) return BUILTIN_CATALOGUE;
    if (catalogueId.length > 300) return undefined;
    const state = await reader.state(catalogueStreamId(catalogueId), catalogueDecider);
    return state.exists ? state : undefined;
  }
}
