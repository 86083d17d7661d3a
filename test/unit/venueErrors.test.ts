// Every venue's errors are VenueErrors (issue 19): the runtime reads the code, the venue's own code and
// whether to retry the same way for all of them, and a REJECT names the venue's code whichever venue.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VenueError } from '../../connectors/http.ts';
import { PaperVenueError } from '../../connectors/paper/errors.ts';
import { IbkrError } from '../../connectors/ibkr/errors.ts';
import { Mt5OutcomeUnknown } from '../../connectors/mt5/errors.ts';
import { AlpacaOutcomeUnknown } from '../../connectors/alpaca/errors.ts';
import { isRetriable } from '../../schemas/errors.ts';

test('each venue error type is a VenueError with its retry rule and codes kept', () => {
  const paperRejected = new PaperVenueError('VENUE_REJECTED', 'paper submit c1: HTTP 400', { venue: 'paper', operation: 'submit', clientOrderId: 'c1', status: 400, venueCode: 'INVALID_REQUEST', field: 'quantity' });
  const paperDown = new PaperVenueError('VENUE_UNAVAILABLE', 'paper submit c1: cannot reach', { venue: 'paper', operation: 'submit' });
  const ibkrSession = new IbkrError('VENUE_SESSION_EXPIRED', 'ibkr submit: not authenticated', { operation: 'submit', status: 401 });
  const ibkrRefused = new IbkrError('VENUE_CONFIRMATION_REFUSED', 'ibkr submit: o163', { operation: 'submit', messageId: 'o163' });
  const mt5 = new Mt5OutcomeUnknown('c2', 1_700_000_000_000, 'TRADE_RETCODE_TIMEOUT');
  const alpaca = new AlpacaOutcomeUnknown('alpaca', 'c3', null);
  for (const e of [paperRejected, paperDown, ibkrSession, ibkrRefused, mt5, alpaca]) assert.ok(e instanceof VenueError, e.name);
  assert.deepEqual([paperRejected.code, paperRejected.venueCode, paperRejected.status, paperRejected.field, isRetriable(paperRejected)], ['VENUE_REJECTED', 'INVALID_REQUEST', 400, 'quantity', false]);
  assert.deepEqual([isRetriable(paperDown), isRetriable(ibkrSession), isRetriable(ibkrRefused), isRetriable(mt5), isRetriable(alpaca)], [true, true, false, true, true]);
  assert.deepEqual([ibkrSession.operation, ibkrSession.status, ibkrRefused.messageId], ['submit', 401, 'o163']);
  assert.deepEqual([mt5.code, mt5.operation, alpaca.code, alpaca.operation], ['VENUE_OUTCOME_UNKNOWN', 'submit', 'VENUE_OUTCOME_UNKNOWN', 'submit']);
});
