/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab / CR before one) as a formula:
 * such a cell is prefixed with an apostrophe, which shows the text as typed (OWASP CSV injection).
 * Every CSV this app hands out whose cells hold what someone else typed goes through this: the
 * audit export, and the import's report of rejected rows (whose cells are the file's own).
 */
export function neutraliseCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
