// The first line of the read-only SQL endpoint: a lexical check that names what it refuses. Pure.
// It is not the only line: the query database also refuses any prepared statement that is not a
// SELECT, and cannot touch files outside the data folder or change its own settings.

export const ALLOWED_FIRST = ['SELECT', 'WITH', 'DESCRIBE', 'SHOW', 'FROM', 'SUMMARIZE'] as const;

// Whole words outside strings, comments and quoted identifiers. A column really named like one of
// these can still be queried by quoting it ("load").
const FORBIDDEN = [
  'ATTACH', 'DETACH', 'COPY', 'EXPORT', 'IMPORT', 'INSTALL', 'LOAD', 'PRAGMA', 'SET', 'RESET', 'CALL', 'USE',
  'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'UPSERT', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'CHECKPOINT', 'VACUUM',
  'BEGIN', 'COMMIT', 'ROLLBACK', 'PREPARE', 'EXECUTE', 'DEALLOCATE',
] as const;

export const MAX_SQL_LENGTH = 20_000;

export class SqlRefused extends Error {
  readonly code = 'SQL_REFUSED';
  constructor(message: string) { super(message); this.name = 'SqlRefused'; }
}

/**
 * Blanks string literals, quoted identifiers and comments (keeping length and statement separators
 * visible), so keyword checks see only the statement's own words. Throws on an unterminated one.
 */
export function maskSql(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw new SqlRefused('unterminated /* comment');
      out += ' '.repeat(end + 2 - i);
      i = end + 2;
    } else if (c === "'" || c === '"') {
      // SQL escapes a quote by doubling it, so a closing quote is one not followed by another.
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new SqlRefused(`unterminated ${c === "'" ? 'string' : 'quoted identifier'}`);
        if (sql[j] === c) {
          if (sql[j + 1] === c) { j += 2; continue; }
          break;
        }
        j++;
      }
      out += c + ' '.repeat(j - i - 1) + c;
      i = j + 1;
    } else if (c === '$' && /[\w$]/.test(sql.slice(i + 1, i + 2))) {
      // Dollar-quoted strings ($$...$$ or $tag$...$tag$) hide text just like quotes do.
      const m = /^\$(\w*)\$/.exec(sql.slice(i));
      if (!m) { out += c; i++; continue; }
      const end = sql.indexOf(m[0], i + m[0].length);
      if (end === -1) throw new SqlRefused('unterminated dollar-quoted string');
      out += ' '.repeat(end + m[0].length - i);
      i = end + m[0].length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Returns the statement to run (trailing semicolons and whitespace removed) or throws SqlRefused. */
export function checkReadOnlySql(sql: string): string {
  if (typeof sql !== 'string' || sql.trim() === '') throw new SqlRefused('empty query');
  if (sql.length > MAX_SQL_LENGTH) throw new SqlRefused(`query longer than ${MAX_SQL_LENGTH} characters`);
  const masked = maskSql(sql);
  const body = masked.replace(/[\s;]+$/, '');
  if (body.trim() === '') throw new SqlRefused('empty query');
  if (body.includes(';')) throw new SqlRefused('one statement only: found more than one (";")');
  const first = /^\s*\(*\s*([A-Za-z_]+)/.exec(body)?.[1]?.toUpperCase();
  if (!first || !(ALLOWED_FIRST as readonly string[]).includes(first)) {
    throw new SqlRefused(`read-only endpoint: a query must start with ${ALLOWED_FIRST.join(', ')}; got ${first ?? 'something else'}`);
  }
  const words = new Set(body.toUpperCase().match(/[A-Z_][A-Z0-9_]*/g) ?? []);
  const bad = FORBIDDEN.filter((w) => words.has(w));
  if (bad.length > 0) throw new SqlRefused(`read-only endpoint: ${bad.join(', ')} not allowed`);
  return sql.slice(0, body.length);
}
