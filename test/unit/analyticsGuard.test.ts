import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkReadOnlySql, maskSql, SqlRefused } from '../../analytics/query/guard.ts';

const refused = (sql: string, pattern: RegExp) =>
  assert.throws(() => checkReadOnlySql(sql), (e: unknown) => e instanceof SqlRefused && pattern.test(e.message), sql);

describe('read-only SQL guard', () => {
  it('lets single reads through, with a trailing semicolon trimmed', () => {
    assert.equal(checkReadOnlySql('SELECT 1;  '), 'SELECT 1');
    for (const sql of [
      'select * from fills', 'WITH x AS (SELECT 1) SELECT * FROM x', 'DESCRIBE fills', 'show tables',
      'FROM pnl_daily LIMIT 3', 'SUMMARIZE fills', '(SELECT 1) UNION (SELECT 2)',
    ]) assert.equal(checkReadOnlySql(sql), sql);
  });

  it('refuses anything that does not start as a read, naming what it got', () => {
    refused('INSERT INTO fills VALUES (1)', /got INSERT/);
    refused("COPY fills TO '/tmp/x.csv'", /got COPY/);
    refused("ATTACH '/tmp/x.db'", /got ATTACH/);
    refused('INSTALL httpfs', /got INSTALL/);
    refused('PRAGMA version', /got PRAGMA/);
    refused("SET enable_external_access = true", /got SET/);
    refused('EXPLAIN SELECT 1', /got EXPLAIN/);
  });

  it('refuses forbidden words anywhere in a read, but not inside strings, identifiers or comments', () => {
    refused('WITH x AS (SELECT 1) COPY x TO \'y\'', /COPY not allowed/);
    refused('SELECT 1 FROM fills WHERE 1 = 1 /* */ ; DROP TABLE fills', /one statement only/);
    assert.ok(checkReadOnlySql(`SELECT 'drop table; copy' AS "load", 1 -- attach\nFROM fills`));
    assert.ok(checkReadOnlySql('SELECT $$ ; DELETE $$ AS s'));
  });

  it('refuses more than one statement and empty or unterminated input', () => {
    refused('SELECT 1; SELECT 2', /one statement only/);
    refused('  ;; ', /empty/);
    refused("SELECT 'open", /unterminated string/);
    refused('SELECT 1 /* open', /unterminated/);
  });

  it('masks literals and comments keeping their length', () => {
    const sql = "SELECT 'it''s' AS a -- x;\nFROM t";
    const masked = maskSql(sql);
    assert.equal(masked.length, sql.length);
    assert.ok(!masked.includes(';'), 'a ; inside a comment is not a separator');
    assert.ok(masked.startsWith("SELECT '     ' AS a"));
  });
});
