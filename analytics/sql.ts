// SQL literals, pure: for modules that write SQL text without loading DuckDB (the views, the edge's routes).
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
export const sqlList = (items: readonly string[]): string => `[${items.map(sqlString).join(', ')}]`;
