// The ops desk page: sign in with an ops token (kept in this tab's sessionStorage), open the event
// stream with a short-lived ticket, apply the snapshot and then the deltas in sequence, and render.
// Any doubt about the stream (an error, a gap in the sequence, the server ending it) is answered the
// same way: a new ticket, a new stream, and a fresh snapshot that replaces everything.
import { renderChart } from './chart.js';
import { setupControls } from './controls.js';
import {
  renderAccounts, renderDecisions, renderFills, renderKpis, renderLag, renderOrders, renderPositions, renderRecon, renderStates, renderStrategies, renderUnknown, renderVenues, stateOf, todayPoint,
} from './render.js';

const TOKEN_KEY = 'order-router.ops-token';
const LIST_SIZE = 100;
const $ = (id) => document.getElementById(id);

let session = null; // { name, role }
let state = null;
let lastSeq = 0;
let source = null;
let connects = 0;
let retryMs = 500;
const dirty = new Set();
const token = () => sessionStorage.getItem(TOKEN_KEY);
const canAct = () => session !== null && (session.role === 'operator' || session.role === 'admin');

const controls = setupControls({
  token, canAct,
  targets: () => state?.targets ?? { accounts: [], strategies: [], venues: [] },
  onDone: (msg) => flash(msg),
  onUnauthorized: () => signOut('Your token is no longer accepted. Sign in again.'),
});

function flash(msg) {
  $('ctl-note').textContent = msg;
}

function setConn(text, kind) {
  const c = $('conn');
  c.textContent = text;
  c.dataset.state = kind;
  c.dataset.connects = String(connects);
}

// ---- sign-in ----

async function openSession() {
  const res = await fetch('/dashboard/session', { method: 'POST', headers: { authorization: `Bearer ${token()}` } });
  if (res.status === 401) return null;
  if (!res.ok) throw new Error(`session: ${res.status}`);
  return res.json();
}

async function signIn(t) {
  sessionStorage.setItem(TOKEN_KEY, t);
  let s;
  try { s = await openSession(); } catch { s = undefined; }
  if (s === null) return signOut('That token is not accepted.');
  if (s === undefined) { $('signin-error').textContent = 'The edge did not answer. Try again.'; return; }
  session = { name: s.name, role: s.role };
  $('who').textContent = `${s.name} · ${s.role}`;
  $('signin').hidden = true;
  $('desk').hidden = false;
  $('sign-out').hidden = false;
  controls.refresh();
  connect(s.ticket);
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  source?.close();
  source = null;
  session = null;
  state = null;
  $('desk').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('signin').hidden = false;
  $('signin-error').textContent = message ?? '';
  setConn('signed out', 'offline');
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('token').value.trim();
  $('token').value = '';
  if (t) void signIn(t);
});
$('sign-out').addEventListener('click', () => signOut());

// ---- the stream ----

function connect(ticket) {
  source?.close();
  connects += 1;
  setConn('connecting…', 'connecting');
  const es = new EventSource(`/dashboard/events?ticket=${encodeURIComponent(ticket)}`);
  source = es;
  es.addEventListener('snapshot', (e) => {
    state = JSON.parse(e.data);
    lastSeq = state.seq;
    retryMs = 500;
    setConn('live', 'live');
    for (const k of ['kpis', 'chart', 'book', 'orders', 'fills', 'decisions', 'venues', 'lag', 'recon', 'states', 'unknown', 'targets']) dirty.add(k);
    schedule();
  });
  es.addEventListener('delta', (e) => {
    if (state === null) return;
    const seq = Number(e.lastEventId);
    if (seq <= lastSeq) return; // already in the snapshot
    // A gap means a delta was lost: only a new snapshot can make the page right again.
    if (seq !== lastSeq + 1) return reconnect();
    lastSeq = seq;
    apply(JSON.parse(e.data));
    schedule();
  });
  es.addEventListener('bye', () => reconnect());
  es.addEventListener('error', () => { if (source === es) reconnect(); });
}

let reconnecting = false;
async function reconnect() {
  if (reconnecting || session === null) return;
  reconnecting = true;
  source?.close();
  source = null;
  setConn('reconnecting…', 'connecting');
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, retryMs));
      retryMs = Math.min(retryMs * 2, 10_000);
      let s;
      try { s = await openSession(); } catch { continue; } // the edge is down or restarting: keep trying
      if (s === null) return signOut('Your token is no longer accepted. Sign in again.');
      connect(s.ticket);
      return;
    }
  } finally {
    reconnecting = false;
  }
}

/** Mirrors the server's applyDelta (edge/dashboard/store.ts). */
function apply(d) {
  const keep = (xs) => (xs.length > LIST_SIZE ? xs.slice(xs.length - LIST_SIZE) : xs);
  switch (d.type) {
    case 'decision': state.decisions = keep([...state.decisions, d.decision]); dirty.add('decisions').add('kpis'); break;
    case 'order': state.orders = keep([...state.orders.filter((o) => o.orderId !== d.order.orderId), d.order]); dirty.add('orders').add('kpis'); break;
    case 'fill': state.fills = keep([...state.fills, d.fill]); dirty.add('fills'); break;
    case 'book': state.book = d.book; dirty.add('book').add('kpis'); break;
    case 'pnl': state.curve.points = [...state.curve.points, d.point]; dirty.add('chart').add('kpis'); break;
    case 'curve': state.curve = d.curve; dirty.add('chart').add('kpis'); break;
    case 'states': state.states = d.states; dirty.add('states').add('book').add('venues'); break;
    case 'unknownOrders': state.unknownOrders = d.orders; dirty.add('unknown'); break;
    case 'venues': state.venues = d.venues; dirty.add('venues'); break;
    case 'lag': state.lag = d.lag; dirty.add('lag'); break;
    case 'recon': state.recon = d.recon; dirty.add('recon'); break;
    case 'caughtUp': state.caughtUp = true; break;
    default: break; // a newer server's delta this page does not know: ignored, the next snapshot has it
  }
}

// ---- rendering, at most once per frame ----

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(render);
}

function render() {
  scheduled = false;
  if (state === null) return;
  const ctx = { canAct: canAct() };
  const desk = stateOf(state.states, 'DESK', '*');
  $('desk-state').textContent = `desk ${desk}`;
  $('desk-state').className = `badge ${desk === 'HALTED' ? 'bad' : desk === 'REDUCING' ? 'warn' : 'good'}`;
  if (dirty.has('kpis')) renderKpis($('kpis'), state);
  if (dirty.has('chart') || dirty.has('book')) {
    // Server times on the curve, the browser's clock for "now": never let a skew draw time backwards.
    const now = Math.max(Date.now(), state.curve.points[state.curve.points.length - 1]?.t ?? 0);
    renderChart($('chart'), [...state.curve.points, todayPoint(state, now)], now);
  }
  if (dirty.has('book')) {
    renderAccounts($('accounts'), state, ctx);
    renderStrategies($('strategies'), state, ctx);
    renderPositions($('positions'), state);
  }
  if (dirty.has('orders')) renderOrders($('orders'), state);
  if (dirty.has('fills')) renderFills($('fills'), state);
  if (dirty.has('decisions')) renderDecisions($('decisions'), state);
  if (dirty.has('venues')) renderVenues($('venues'), state, ctx);
  if (dirty.has('lag')) renderLag($('lag'), state);
  if (dirty.has('recon')) renderRecon($('recon'), $('recon-note'), state);
  if (dirty.has('states')) renderStates($('states'), state);
  if (dirty.has('unknown')) renderUnknown($('unknown-orders'), state);
  if (dirty.has('targets')) controls.refresh();
  dirty.clear();
  document.body.dataset.seq = String(lastSeq);
}

// The chart's right edge is "now": it moves even when nothing else does.
setInterval(() => { if (state) { dirty.add('chart'); schedule(); } }, 30_000);
window.addEventListener('resize', () => { dirty.add('chart'); schedule(); });

if (token()) void signIn(token());
else signOut();
