import type { RiskState } from '../domain/risk.state.js';

export interface ControlsDocumentEntry {
  riskId: string;
  riskTitle: string;
  riskStatus: string;
  ownerId: string;
  level: string | null;
  targetLevel: string | null;
  treatmentOptions: string[];
  treatmentRationale: string | null;
  controls: RiskState['controls'];
}

export interface ControlsDocumentView {
  generatedAt: string;
  riskCount: number;
  controlCount: number;
  entries: ControlsDocumentEntry[];
  markdown: string;
}

/**
 * Art.18(2): the record of the controls decided and the reason each was adopted, as a document
 * the committee can keep. Built from risk states only, so the same function serves today's
 * register and any replayed past one.
 */
export function controlsDocument(risks: RiskState[], generatedAt: string): ControlsDocumentView {
  const entries = risks
    .filter((r) => r.controls.length > 0)
    .map((r) => ({
      riskId: r.id,
      riskTitle: r.title,
      riskStatus: r.status,
      ownerId: r.ownerId,
      level: r.level ?? r.evaluation?.level ?? null,
      targetLevel: r.treatment?.targetLevel ?? null,
      treatmentOptions: r.treatment?.options ?? [],
      treatmentRationale: r.treatment?.rationale ?? null,
      controls: r.controls,
    }));
  const controlCount = entries.reduce((n, e) => n + e.controls.length, 0);
  return { generatedAt, riskCount: entries.length, controlCount, entries, markdown: renderMarkdown(entries, generatedAt, controlCount) };
}

/** Markdown-safe text on one line (table cells). */
function cell(text: string | null | undefined): string {
  return (text ?? '').replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').trim() || '—';
}

function renderMarkdown(entries: ControlsDocumentEntry[], generatedAt: string, controlCount: number): string {
  const lines = [
    '# Record of controls and the reasons for their adoption',
    '',
    `Rules on Information Security Management, Art.18(2). Generated ${generatedAt} from the event log: ${entries.length} risk(s), ${controlCount} control(s).`,
    '',
  ];
  for (const e of entries) {
    lines.push(`## ${cell(e.riskTitle)}`, '');
    lines.push(`- Risk: \`${e.riskId}\` (status ${e.riskStatus}, owner \`${cell(e.ownerId)}\`)`);
    lines.push(`- Level: ${cell(e.level)}; target residual level: ${cell(e.targetLevel)}`);
    lines.push(`- Treatment (Art.17): ${e.treatmentOptions.join(', ') || '—'}${e.treatmentRationale ? ` — ${cell(e.treatmentRationale)}` : ''}`, '');
    lines.push('| Control | Owner | Due | Reason for adoption | Reference |', '| --- | --- | --- | --- | --- |');
    for (const c of e.controls) {
      lines.push(`| ${cell(c.title)}${c.description ? `: ${cell(c.description)}` : ''} | ${cell(c.ownerId)} | ${c.dueDate} | ${cell(c.reason)} | ${cell(c.reference)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
