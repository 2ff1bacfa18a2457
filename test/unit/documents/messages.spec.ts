import { describe, expect, it } from '@jest/globals';
import { en } from '../../../src/documents/messages/en.js';
import { ja } from '../../../src/documents/messages/ja.js';
import { fill, labelOf } from '../../../src/documents/messages/index.js';
import { assetLabel } from '../../../src/documents/application/document-view.js';
import { CONTROL_STATUSES } from '../../../src/risk-register/domain/control.state.js';
import { RISK_STATUSES, TREATMENT_OPTIONS } from '../../../src/risk-register/domain/risk.state.js';
import { BOARD_DECISIONS, CONSENT_STATUSES, PLAN_STATUSES } from '../../../src/treatment-plan/domain/plan.state.js';

/** Every leaf's path ("plan.title", "enums.riskStatus.IDENTIFIED"…), sorted. */
function paths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix];
  return Object.entries(value as Record<string, unknown>)
    .flatMap(([k, v]) => paths(v, prefix ? `${prefix}.${k}` : k))
    .sort();
}

describe('message catalogues of the documents', () => {
  it('ja and en have exactly the same keys, every one a non-empty string', () => {
    expect(paths(en)).toEqual(paths(ja));
    for (const catalogue of [ja, en]) {
      for (const path of paths(catalogue)) {
        const text = path.split('.').reduce<any>((v, k) => v[k], catalogue);
        // The one blank on purpose: the indent of an item's further lines in a list cell (register-export.ts).
        const blank = path === 'register.listContinuation' ? text === '' : text.trim() === '';
        expect({ path, empty: blank }).toEqual({ path, empty: false });
      }
    }
  });

  it('use the same {placeholders} in both languages', () => {
    for (const path of paths(ja)) {
      const get = (c: unknown) => path.split('.').reduce<any>((v, k) => v[k], c) as string;
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect({ path, names: names(get(en)) }).toEqual({ path, names: names(get(ja)) });
    }
  });

  it('name every status, option and decision of the domain', () => {
    for (const c of [ja, en]) {
      expect(Object.keys(c.enums.riskStatus).sort()).toEqual([...RISK_STATUSES].sort());
      expect(Object.keys(c.enums.treatmentOption).sort()).toEqual([...TREATMENT_OPTIONS].sort());
      expect(Object.keys(c.enums.planStatus).sort()).toEqual([...PLAN_STATUSES].sort());
      expect(Object.keys(c.enums.consent).sort()).toEqual([...CONSENT_STATUSES].sort());
      expect(Object.keys(c.enums.decision).sort()).toEqual([...BOARD_DECISIONS].sort());
      expect(Object.keys(c.enums.controlStatus).sort()).toEqual([...CONTROL_STATUSES].sort());
    }
  });

  it('fill replaces the placeholders given and keeps the others; labelOf falls back to the code', () => {
    expect(fill('第{revision}版（{x}）', { revision: 2 })).toBe('第2版（{x}）');
    expect(labelOf(ja.enums.decision, 'APPROVED', '—')).toBe('承認');
    expect(labelOf(ja.enums.decision, 'POSTPONED', '—')).toBe('POSTPONED');
    expect(labelOf(ja.enums.decision, null, '—')).toBe('—');
    expect(labelOf(ja.enums.decision, 'toString', '—')).toBe('toString');
  });

  it('an asset is named with its retirement where it has left the inventory, its id where the document does not know it (compliance probe F3)', () => {
    const retiredAt = '2026-12-05T14:00:00.000Z';
    expect(assetLabel({ name: 'OTC desk', status: 'ACTIVE' }, 'a-1', 'en', en)).toBe('OTC desk');
    expect(assetLabel({ name: 'OTC desk', status: 'RETIRED', retiredAt }, 'a-1', 'en', en)).toBe('OTC desk (retired 2026-12-05 14:00:00 UTC)');
    expect(assetLabel({ name: 'OTC desk', status: 'RETIRED', retiredAt }, 'a-1', 'ja', ja)).toBe('OTC desk（令和8年12月5日（2026-12-05）23:00:00 JSTに廃止）');
    expect(assetLabel(null, 'a-1', 'ja', ja)).toBe('a-1');
  });
});
