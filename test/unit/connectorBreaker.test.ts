// The venue circuit breaker and the rate gate: pure state and a fake clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closedBreaker, mayResume, probeDue, stepBreaker, venueStateControl, type BreakerState } from '../../connectors/breaker.ts';
import { createRateGate, Secret } from '../../connectors/http.ts';
import { inspect } from 'node:util';

const cfg = { failuresToOpen: 3, minFailureSpanMs: 50, probeIntervalMs: 100, maxProbeIntervalMs: 400 };

describe('connector breaker (pure)', () => {
  it('opens after consecutive failures, not after failures a success interrupts', () => {
    let s: BreakerState = closedBreaker();
    const cur = (): BreakerState => s; // read through a call: the closure assigns s
    const step = (input: Parameters<typeof stepBreaker>[1], now = 0) => { const r = stepBreaker(s, input, now, cfg); s = r.state; return r.transition; };
    step({ kind: 'failure', reason: 'a' });
    step({ kind: 'failure', reason: 'b' });
    step({ kind: 'success' });
    step({ kind: 'failure', reason: 'c' }, 940);
    step({ kind: 'failure', reason: 'd' }, 950);
    assert.equal(step({ kind: 'failure', reason: 'e' }, 960), null, 'failures bunched in 20 ms are a burst, not an outage');
    assert.equal(cur().mode, 'CLOSED');
    assert.equal(step({ kind: 'failure', reason: 'e' }, 1_000), 'HALT');
    const open = cur();
    assert.equal(open.mode === 'OPEN' && open.reason, 'e');
    assert.equal(step({ kind: 'success' }), null, 'a late success does not close it');
    assert.equal(probeDue(cur(), 1_099), false);
    assert.equal(probeDue(cur(), 1_100), true);
    step({ kind: 'probe-failed', reason: 'still down' }, 1_100);
    const backedOff = cur();
    assert.equal(backedOff.mode === 'OPEN' && backedOff.nextProbeAt, 1_300, 'probes back off');
    assert.equal(step({ kind: 'probe-ok' }, 1_300), 'RESUME');
    assert.equal(cur().mode, 'CLOSED');
  });

  it('trips at once when start-up reconciliation fails, and writes a venue HALT by the connector', () => {
    const r = stepBreaker(closedBreaker(), { kind: 'trip', reason: 'cannot reconcile' }, 5, cfg);
    assert.equal(r.transition, 'HALT');
    const c = venueStateControl('alpaca', 'HALTED', 'cannot reconcile', 'id-1', 5, 6);
    assert.deepEqual([c.kind, c.scope, c.target, c.state, c.actor], ['TRADING_STATE', 'VENUE', 'alpaca', 'HALTED', 'connector:alpaca']);
  });

  it('lifts only its own halt, never the desk\'s', () => {
    assert.equal(mayResume({ state: 'HALTED', actor: 'connector:binance' }, 'binance'), true);
    assert.equal(mayResume({ state: 'HALTED', actor: 'ops:alice' }, 'binance'), false);
    assert.equal(mayResume(null, 'binance'), true);
  });
});

describe('rate gate and secrets', () => {
  it('holds requests back near the limit until the window turns, and during a Retry-After', async () => {
    let now = 0;
    const gate = createRateGate({ clock: () => now, limit: 10, softRatio: 0.8, windowMs: 100 });
    for (let i = 0; i < 8; i++) await gate.take();
    let passed = false;
    const next = gate.take().then(() => { passed = true; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(passed, false, 'the 9th request of the window waits');
    now = 100;
    await next;
    gate.observeUsed(9); // the venue counts more than we did: its figure wins
    assert.equal(gate.snapshot().used, 9);
    gate.blockFor(500);
    assert.equal(gate.snapshot().blockedUntil, 600);
  });

  it('never prints a credential', () => {
    const s = new Secret('super-secret-value');
    assert.equal(s.reveal(), 'super-secret-value');
    assert.ok(!JSON.stringify({ s }).includes('super'));
    assert.ok(!inspect({ s }).includes('super'));
    assert.ok(!`${s}`.includes('super'));
  });
});
