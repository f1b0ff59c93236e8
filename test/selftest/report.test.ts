import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport, maskUser, ministryAddress, renderMarkdown, renderText, writeReportFiles } from '../../src/selftest/report.js';
import { percentile } from '../../src/selftest/runner.js';

describe('selftest report pieces', () => {
  it('masks the user name but keeps the organisation', () => {
    expect(maskUser('ORG-TEST')).toBe('ORG-****');
    expect(maskUser('ANTALYABB-G2G-HES')).toBe('ANTALYABB-****');
    expect(maskUser('ORGTEST')).toBe('ORG****');
    expect(maskUser(null)).toBe('(unset)');
  });

  it('keeps only host and path of the base URL', () => {
    expect(ministryAddress('https://u:p@hesservis.turkiye.gov.tr/services/g2g/test/saglik/hes/?k=v#x')).toEqual({
      host: 'hesservis.turkiye.gov.tr',
      path: '/services/g2g/test/saglik/hes/',
    });
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).toBe(0);
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([5, 1, 3, 2], 0.5)).toBe(2);
    expect(percentile([5, 1, 3, 2], 1)).toBe(5);
  });

  it('fails the report when one check failed, and escapes table cells', () => {
    const report = buildReport(
      {
        checks: [
          { id: 'credentials', title: 'A | B', endpoints: ['check-hes-code'], outcome: 'PASS', reason: 'ok', action: '', durationMs: 3 },
          { id: 'single', title: 'Single', endpoints: ['check-hes-code'], outcome: 'FAIL', reason: 'x', action: 'do y', durationMs: 1 },
          { id: 'expired', title: 'Expired', endpoints: ['check-hes-code'], outcome: 'SKIP', reason: 'no code', action: 'give z', durationMs: 0 },
        ],
        calls: [
          { endpoint: 'check-hes-code', durationMs: 3.4 },
          { endpoint: 'check-hes-code', durationMs: 1.2 },
        ],
      },
      { version: '1.2.3', startedAt: Date.UTC(2021, 2, 1, 12), environment: 'test', baseUrl: 'https://h/services/g2g/test/saglik/hes/', user: 'ORG-TEST' },
    );
    expect(report).toMatchObject({ result: 'FAIL', summary: { pass: 1, fail: 1, skip: 1 }, date: '2021-03-01T12:00:00.000Z', user: 'ORG-****' });
    expect(report.latency).toEqual({ calls: 2, p50Ms: 1, maxMs: 3, byEndpoint: { 'check-hes-code': { calls: 2, p50Ms: 1, maxMs: 3 } } });
    expect(renderMarkdown(report)).toContain('| PASS | A \\| B |');
    const text = renderText(report);
    expect(text).toContain('What to do:\n  single: do y\n  expired: give z\n');
    expect(text).toMatch(/FAIL: 1 passed, 1 failed, 1 skipped\n$/);
  });

  it('two runs ending in the same second keep both reports (issue 22: the 503 rehearsal was replaced by the 401 one)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hes-gate-report-names-'));
    try {
      const facts = { version: '1.2.3', startedAt: Date.UTC(2026, 11, 7, 9, 30, 15, 120), environment: 'simulator' as const, baseUrl: 'http://127.0.0.1:8089/services/g2g/test/saglik/hes/', user: 'ORG-TEST' };
      const run = (reason: string) =>
        buildReport({ checks: [{ id: 'credentials', title: 'Credentials', endpoints: ['check-hes-code'], outcome: 'FAIL', reason, action: '', durationMs: 1 }], calls: [] }, facts);
      const first = writeReportFiles(run('HG_MINISTRY_SERVER_ERROR (503)'), dir);
      const second = writeReportFiles({ ...run('HG_MINISTRY_AUTH (401)'), date: new Date(facts.startedAt + 700).toISOString() }, dir);
      const third = writeReportFiles(run('HG_MINISTRY_TIMEOUT'), dir);
      expect(readdirSync(dir).sort()).toEqual([
        'selftest-report-simulator-20261207T093015Z-2.json',
        'selftest-report-simulator-20261207T093015Z-2.md',
        'selftest-report-simulator-20261207T093015Z-3.json',
        'selftest-report-simulator-20261207T093015Z-3.md',
        'selftest-report-simulator-20261207T093015Z.json',
        'selftest-report-simulator-20261207T093015Z.md',
      ]);
      expect(readFileSync(first.markdown, 'utf8')).toContain('503');
      expect(readFileSync(first.json, 'utf8')).toContain('503');
      expect(readFileSync(second.markdown, 'utf8')).toContain('401');
      expect(readFileSync(third.json, 'utf8')).toContain('HG_MINISTRY_TIMEOUT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
