// kafkajs log lines in pino: a coordinator still settling at start is debug, the same later a warning,
// every other kafkajs level where a reader expects it, and the two known-harmless lines dropped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { logLevel } from 'kafkajs';
import { pino } from 'pino';
import { KAFKA_START_GRACE_MS, kafkaEntryLevel, kafkaLogCreator, kafkaLogLevel } from '../../streams/runtime/kafkaLog.ts';

const response = (error: string, sinceStartMs = 0) =>
  ({ level: logLevel.ERROR, message: 'Response GroupCoordinator(key: 10, version: 2)', error, sinceStartMs });

describe('kafkajs log routing', () => {
  it('given a coordinator not available yet at start, then the line is debug', () => {
    assert.equal(kafkaEntryLevel(response('The group coordinator is not available')), 'debug');
    assert.equal(kafkaEntryLevel(response('This is not the correct coordinator for this group', 1000)), 'debug');
    assert.equal(kafkaEntryLevel(response("The coordinator is loading and hence can't process requests for this group", 5000)), 'debug');
  });

  it('given the same after the start, then it is a warning (kafkajs still retries it)', () => {
    assert.equal(kafkaEntryLevel(response('The group coordinator is not available', KAFKA_START_GRACE_MS)), 'warn');
  });

  it('given any other error response, then it stays an error', () => {
    assert.equal(kafkaEntryLevel(response('Not authorized to access group')), 'error');
  });

  it('maps warn, info and debug one level down from error, and drops the known-harmless lines', () => {
    assert.equal(kafkaEntryLevel({ level: logLevel.WARN, message: 'x', sinceStartMs: 0 }), 'warn');
    assert.equal(kafkaEntryLevel({ level: logLevel.INFO, message: 'Consumer has joined the group', sinceStartMs: 0 }), 'debug');
    assert.equal(kafkaEntryLevel({ level: logLevel.DEBUG, message: 'Request Fetch', sinceStartMs: 0 }), 'trace');
    assert.equal(kafkaEntryLevel({ level: logLevel.WARN, message: 'Limiting retries for the idempotent producer to 1', sinceStartMs: 0 }), null);
    assert.equal(kafkaEntryLevel({ level: logLevel.ERROR, message: 'Response EndTxn', error: 'There is another concurrent operation on the same transaction', sinceStartMs: 0 }), null);
  });

  it('asks kafkajs for its INFO lines only at debug and its DEBUG lines only at trace', () => {
    assert.equal(kafkaLogLevel('info'), logLevel.WARN);
    assert.equal(kafkaLogLevel('warn'), logLevel.WARN);
    assert.equal(kafkaLogLevel('debug'), logLevel.INFO);
    assert.equal(kafkaLogLevel('trace'), logLevel.DEBUG);
  });

  it('writes the routed line through the pino logger it was given', () => {
    const lines: { level: number; msg: string; error?: string }[] = [];
    const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    let now = 0;
    const write = kafkaLogCreator(log, () => now)(logLevel.WARN);
    const entry = (error: string) => ({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: '', logger: 'kafkajs', message: 'Response GroupCoordinator(key: 10, version: 2)', broker: 'b:9092', error } });
    write(entry('The group coordinator is not available'));
    now = KAFKA_START_GRACE_MS + 1;
    write(entry('The group coordinator is not available'));
    assert.deepEqual(lines.map((l) => [l.level, l.error]), [[20, 'The group coordinator is not available'], [40, 'The group coordinator is not available']]);
  });
});
