/**
 * The node options the service runs with are the same wherever it is started as a service — the
 * systemd unit, the container image, `npm start` — and the no-stall and city benchmarks measure
 * stations started with them. And the option does what it is there for: it caps V8's young generation.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const OPTIONS = '--max-semi-space-size=16';

describe('node options of the service', () => {
  it('are the same in the unit, the image, npm start and the benchmarks\' stations', () => {
    expect(readFileSync('packaging/hes-gate.service', 'utf8')).toMatch(new RegExp(`^Environment=NODE_OPTIONS=${OPTIONS}$`, 'm'));
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))).toMatch(new RegExp(`^\\s+NODE_OPTIONS=${OPTIONS} \\\\$`, 'm'));
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['start']).toBe(`node ${OPTIONS} dist/src/cli/main.js serve`);
    expect(readFileSync('bench/child.ts', 'utf8')).toContain(`export const STATION_NODE_OPTIONS = '${OPTIONS}';`);
    // The benchmarks that start a whole station (no-stall, saturation, city) start it with bench/processes.ts, with those options.
    expect(readFileSync('bench/processes.ts', 'utf8')).toContain('NODE_OPTIONS: STATION_NODE_OPTIONS,');
  });

  it('cap the young generation (a semi-space of 16 MiB: at most 32 MiB of new space)', () => {
    const probe = `const v8=require('v8');let keep=[];for(let i=0;i<3e6;i++){keep.push({i});if(keep.length>2e5)keep=[]}
      process.stdout.write(String(v8.getHeapSpaceStatistics().find((s)=>s.space_name==='new_space').space_size/2**20))`;
    const newSpaceMiB = (nodeOptions: string): number =>
      Number(execFileSync(process.execPath, ['-e', probe], { env: { PATH: process.env['PATH'] ?? '', NODE_OPTIONS: nodeOptions }, encoding: 'utf8' }));
    // Without the option the same allocation grows it to 64 MiB on a machine of 24 GiB (V8 sizes
    // its default from the memory), so that side is not asserted.
    expect(newSpaceMiB(OPTIONS)).toBeLessThanOrEqual(32);
  });
});
