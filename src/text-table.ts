/**
 * Columns aligned for a terminal: each cell padded to its column's widest, two spaces between,
 * no trailing blanks. The one table helper of the command line (`devices`, `selftest`, `city status`).
 */
export function alignColumns(rows: ReadonlyArray<readonly string[]>, options: { rule?: boolean } = {}): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const lines = rows.map(line);
  // A rule under the header row, as wide as each column.
  if (options.rule === true) lines.splice(1, 0, line(widths.map((w) => '─'.repeat(w))));
  return lines.join('\n');
}
