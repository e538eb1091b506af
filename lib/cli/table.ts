/**
 * Plain-text tables for the command line: cells printed as they are (numbers without quotes,
 * unlike console.table), columns padded to their widest cell, numeric columns right-aligned.
 * @packageDocumentation
 */

/**
 * Renders `rows` under `header` as aligned text with a rule under the header.
 * @param header - column titles
 * @param rows - cells, already formatted; a number is printed with String()
 * @param alignRight - per column, true to right-align (numbers); default left
 */
export function textTable(header: string[], rows: (string | number)[][], alignRight: boolean[] = []): string {
  const cells = rows.map((r) => header.map((_, j) => (r[j] === undefined ? '' : String(r[j]))));
  const width = header.map((h, j) => Math.max(h.length, ...cells.map((r) => r[j].length)));
  const line = (r: string[]): string =>
    r.map((c, j) => (alignRight[j] ? c.padStart(width[j]) : c.padEnd(width[j]))).join('  ').trimEnd();
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
