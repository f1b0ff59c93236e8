/** `hes-gate --version`: the package version and the commit it was built from. */
import { buildInfo, type BuildInfo } from '../build-info.js';

/** `hes-gate 0.1.0 (commit 807b90a1c2d3)`; `…-modified` for a build with uncommitted changes. */
export function versionLine(info: BuildInfo = buildInfo()): string {
  const commit = info.commit === 'unknown' ? 'commit unknown' : `commit ${info.commit.slice(0, 12)}${info.dirty ? '-modified' : ''}`;
  return `hes-gate ${info.version} (${commit})`;
}
