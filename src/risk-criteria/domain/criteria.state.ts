/** State of the risk criteria (Art. 13): one register stream holds every numbered version. */

export const ANALYSIS_METHODS = ['BASELINE', 'INFORMAL', 'DETAILED'] as const;
export type AnalysisMethod = (typeof ANALYSIS_METHODS)[number];

export type CriteriaStatus = 'PROPOSED' | 'IN_FORCE' | 'SUPERSEDED';

export interface RequiredMethod {
  /** Assets of this value or higher require `method` (Art. 13(2)). */
  minAssetValue: number;
  method: AnalysisMethod;
}

export interface ReviewInterval {
  level: string;
  days: number;
}

/** The content of one criteria version, exactly as proposed. */
export interface CriteriaDefinition {
  /** Labels, lowest first (N levels). */
  likelihoodLevels: string[];
  /** Labels, lowest first (M levels). */
  impactLevels: string[];
  /** Labels, lowest first. */
  riskLevels: string[];
  /** matrix[likelihood-1][impact-1] = a risk level label. */
  matrix: string[][];
  /** Highest tolerated level (Art. 13(1)). */
  acceptanceLevel: string;
  /** Three entries: impact (1..M) for asset value 1, 2, 3. */
  impactByAssetValue: number[];
  /** N-1 ascending: gap >= t[i] gives likelihood i+2, else 1. */
  baselineGapThresholds: number[];
  /** N-1 ascending, on threat x vulnerability (1..9): product >= t[i] gives likelihood i+2, else 1. */
  detailedLikelihoodThresholds: number[];
  requiredMethods: RequiredMethod[];
  reviewIntervalDays: ReviewInterval[];
}

export interface CriteriaVersionState extends CriteriaDefinition {
  id: string;
  /** 1, 2, 3… in order of proposal. */
  number: number;
  /** Revision (in the register stream) of the last event that changed this version. */
  version: number;
  status: CriteriaStatus;
  proposedBy: string;
  proposedAt: string;
  approvedBy?: string;
  approvedAt?: string;
  supersededAt?: string;
  supersededBy?: string;
}

export interface CriteriaRegisterState {
  /** Revision of the register stream's last event; -1 when empty. */
  version: number;
  versions: CriteriaVersionState[];
  /** id of the version in force, if any. */
  inForceId?: string;
}

/** The single stream that holds every criteria version (numbering and "exactly one in force" need one stream). */
export const CRITERIA_STREAM = 'risk-criteria';
