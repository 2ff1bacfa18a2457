import { describe, expect, it } from '@jest/globals';
import { given } from '../support/given-when-then.js';
import { ANNOTATION_TEXT_LIMIT, annotationsDecider, type AddComment, type AttachEvidence } from '../../../src/evidence/domain/annotations.decider.js';
import { evidenceFileDecider, evidenceIdFor, type StoreEvidenceFile } from '../../../src/evidence/domain/evidence-file.decider.js';
import { citedEvidence, type AnnotationEvent, type EvidenceFileStored } from '../../../src/evidence/domain/evidence.events.js';
import { contentAgrees, mediaTypeEssence } from '../../../src/evidence/domain/media-types.js';
import { BadInputError, ForbiddenError, RuleViolationError } from '../../../src/shared/domain/errors.js';

const ciso = { id: 'ciso', name: 'Chief ISO', roles: ['CISO' as const] };
const auditor = { id: 'aud', name: 'Auditor', roles: ['AUDITOR' as const] };
const AT = '2025-04-01T00:00:00.000Z';
const SHA = 'a'.repeat(64);

function store(over: Partial<StoreEvidenceFile> = {}): StoreEvidenceFile {
  const base = { sha256: SHA, mediaType: 'application/pdf', filename: 'minutes.pdf', ...over };
  return { type: 'StoreEvidenceFile', actor: ciso, at: AT, size: 10, evidenceId: evidenceIdFor(base.sha256, base.mediaType, base.filename), ...base };
}

describe('evidence file decider', () => {
  const stored: EvidenceFileStored = {
    type: 'EvidenceFileStored',
    data: { evidenceId: evidenceIdFor(SHA, 'application/pdf', 'minutes.pdf'), sha256: SHA, size: 10, mediaType: 'application/pdf', filename: 'minutes.pdf', storedBy: 'ciso', storedAt: AT },
  };

  it('stores a file once: the same upload again is already satisfied', () => {
    given(evidenceFileDecider, []).when(store()).then([stored]);
    given(evidenceFileDecider, [stored]).when(store()).thenNothing();
  });

  it('derives one id per bytes, type and name (a UUID)', () => {
    expect(evidenceIdFor(SHA, 'application/pdf', 'a.pdf')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(evidenceIdFor(SHA, 'application/pdf', 'a.pdf')).not.toBe(evidenceIdFor(SHA, 'application/pdf', 'b.pdf'));
  });

  it('refuses an auditor, a path as the name, an unaccepted type', () => {
    given(evidenceFileDecider, []).when({ ...store(), actor: auditor }).thenThrows(ForbiddenError);
    given(evidenceFileDecider, []).when(store({ filename: '../x.pdf' })).thenRejectsFields('x-filename');
    given(evidenceFileDecider, []).when(store({ mediaType: 'application/x-msdownload' })).thenRejectsFields('content-type');
  });

  it('refuses C1 controls, bidi overrides, invisible padding and noncharacters in a name (one that would display as another)', () => {
    // The noncharacters and a lone surrogate as every other text refuses them (probe p11: they were stored).
    for (const name of ['minutes\u0085.pdf', 'invoice\u202efdp.exe', 'a\u2066b.pdf', 'a\u007fb.pdf', 'a\tb.pdf', '\u200Bzw\u200B.pdf', 'min\u00ADutes.pdf', 'a\u2028b.pdf', 'a\uFFFEb.pdf', 'a\uFFFF.pdf', '\uFDD0.pdf', 'x\u{10FFFF}.pdf', 'a\ud800b.pdf']) {
      given(evidenceFileDecider, []).when(store({ filename: name })).thenRejectsFields('x-filename');
    }
    given(evidenceFileDecider, []).when(store({ filename: '取締役会議事録 2025-04.pdf' })).thenMatches([{ type: 'EvidenceFileStored' }]);
  });
});

describe('annotations decider', () => {
  const file = { evidenceId: 'e-1', sha256: SHA, size: 10, mediaType: 'application/pdf', filename: 'm.pdf' };
  const attach: AttachEvidence = { type: 'AttachEvidence', actor: ciso, at: AT, entityId: 'r-1', entityKind: 'RISK', file, description: ' Minutes ' };
  const attached: AnnotationEvent = { type: 'EvidenceAttached', data: { entityId: 'r-1', entityKind: 'RISK', ...file, description: 'Minutes', attachedBy: 'ciso', attachedAt: AT } };
  const comment: AddComment = { type: 'AddComment', actor: ciso, at: AT, commentId: 'c-1', entityId: 'r-1', entityKind: 'RISK', text: 'Looks fine' };

  it('attaches a file by its SHA-256, once', () => {
    given(annotationsDecider, []).when(attach).then([attached]);
    given(annotationsDecider, [attached]).when(attach).thenNothing();
  });

  it('attached again with another description is refused, the attachment standing: it was answered as done, the description recorded nowhere', () => {
    given(annotationsDecider, [attached])
      .when({ ...attach, description: 'other' })
      .thenThrows(RuleViolationError, { rule: 'EVIDENCE_ALREADY_ATTACHED', article: 'Art.5(4)', message: expect.stringMatching(/attached to r-1 already \(by ciso at .*\) with another description: that attachment stands/) });
  });

  it('a token with no role but ADMIN neither stores nor attaches evidence (ADMIN writes no domain data: probe 7 F2); it may comment, as the contract lets any role but AUDITOR', () => {
    for (const roles of [['ADMIN' as const], [] as never[]]) {
      const admin = { id: 'root', name: 'Operator', roles };
      expect(given(annotationsDecider, []).when({ ...attach, actor: admin }).thenThrows(ForbiddenError).message).toContain('writes no domain data');
      given(evidenceFileDecider, []).when({ ...store(), actor: admin }).thenThrows(ForbiddenError);
    }
    given(annotationsDecider, []).when({ ...attach, actor: { id: 'root', name: 'Operator', roles: ['ADMIN', 'BOARD_SECRETARY'] } }).thenMatches([{ type: 'EvidenceAttached' }]);
    given(annotationsDecider, []).when({ ...comment, actor: { id: 'root', name: 'Operator', roles: ['ADMIN'] } }).thenMatches([{ type: 'CommentAdded' }]);
  });

  it('adds comments, and refuses blank or too long text and auditors', () => {
    given(annotationsDecider, []).when(comment).thenMatches([{ type: 'CommentAdded', data: { commentId: 'c-1', text: 'Looks fine', authorId: 'ciso', authorName: 'Chief ISO' } }]);
    given(annotationsDecider, []).when({ ...comment, text: ' ' }).thenRejectsFields('text');
    given(annotationsDecider, []).when({ ...comment, text: 'x'.repeat(10_001) }).thenRejectsFields('text');
    given(annotationsDecider, []).when({ ...comment, actor: auditor }).thenThrows(ForbiddenError);
    given(annotationsDecider, []).when({ ...attach, description: '' }).thenThrows(BadInputError);
  });

  it(`one entity's comments and attachment descriptions hold ${ANNOTATION_TEXT_LIMIT} characters together; past it ANNOTATIONS_TOO_LARGE (hostile re-probe of 2026-12-07, D)`, () => {
    const full = Array.from({ length: ANNOTATION_TEXT_LIMIT / 10_000 }, (_, i): AnnotationEvent => ({ type: 'CommentAdded', data: { commentId: `c-${i}`, entityId: 'r-1', entityKind: 'RISK', text: 'x'.repeat(10_000), authorId: 'ciso', authorName: 'Chief ISO', addedAt: AT } }));
    given(annotationsDecider, full.slice(1)).when({ ...comment, commentId: 'c-new', text: 'y'.repeat(10_000) }).thenMatches([{ type: 'CommentAdded' }]);
    given(annotationsDecider, full).when({ ...comment, commentId: 'c-new', text: 'y' }).thenThrows(RuleViolationError, { rule: 'ANNOTATIONS_TOO_LARGE', article: 'Art.5(4)' });
    given(annotationsDecider, full).when(attach).thenThrows(RuleViolationError, { rule: 'ANNOTATIONS_TOO_LARGE' });
    // The same comment again (a retry) is still satisfied.
    given(annotationsDecider, full).when({ ...comment, commentId: 'c-0', text: 'x'.repeat(10_000) }).thenNothing();
  });
});

describe('media types and cited evidence', () => {
  it('compares the declared type with what the bytes are', () => {
    expect(mediaTypeEssence('Text/CSV; charset=utf-8')).toBe('text/csv');
    expect(contentAgrees('application/pdf', 'application/pdf', false)).toBe(true);
    expect(contentAgrees('application/pdf', 'image/png', false)).toBe(false);
    expect(contentAgrees('text/plain', null, true)).toBe(true);
    expect(contentAgrees('text/plain', null, false)).toBe(false);
    expect(contentAgrees('application/msword', 'application/x-cfb', false)).toBe(true);
    expect(contentAgrees('application/zip', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', false)).toBe(true);
    // Text that happens to start with a weak magic number ("BM…" reads as a BMP, "MZ…" as an executable) is text;
    // a strong signature (a PDF, a zip) still contradicts a declared text type.
    expect(contentAgrees('text/csv', 'image/bmp', true)).toBe(true);
    expect(contentAgrees('text/plain', 'application/x-msdownload', true)).toBe(true);
    expect(contentAgrees('text/csv', 'image/bmp', false)).toBe(false);
    expect(contentAgrees('text/plain', 'application/pdf', true)).toBe(false);
    expect(contentAgrees('text/csv', 'application/zip', true)).toBe(false);
    expect(contentAgrees('application/pdf', 'image/bmp', true)).toBe(false);
  });

  it('finds the files an event cites, whatever feature wrote it', () => {
    expect(citedEvidence('ControlProgressRecorded', { evidence: [{ evidenceId: 'e', sha256: SHA }, { evidenceId: 'x', sha256: 'nope' }] })).toEqual([{ evidenceId: 'e', sha256: SHA }]);
    expect(citedEvidence('EvidenceAttached', { evidenceId: 'e', sha256: SHA })).toEqual([{ evidenceId: 'e', sha256: SHA }]);
    expect(citedEvidence('AssetRegistered', { name: 'x' })).toEqual([]);
  });
});
