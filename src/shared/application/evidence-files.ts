/**
 * The evidence-file store as other features see it (board minutes, contracts, policies, test
 * reports kept beside the log by content hash). The evidence module provides it; a feature that
 * cites evidence in one of its own events (a control's progress, say) looks the file up here and
 * records its SHA-256 in that event, so the log pins the exact bytes cited.
 */
export interface StoredEvidenceFile {
  /** Opaque id handed out by POST /evidence. */
  id: string;
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
  size: number;
  mediaType: string;
  filename: string;
}

export abstract class EvidenceFiles {
  /** The stored file with this id, or null when there is none. */
  abstract find(id: string): Promise<StoredEvidenceFile | null>;
}
