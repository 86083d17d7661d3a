// The fake gateway's websocket (/v1/api/ws), as IBKR documents it ("Tutorial: Web API – How to connect
// to WebSocket" and the Websockets section of the Web API v1.0 reference): an open socket is not yet
// a session. Without the session cookie it answers {"message":"waiting for session"} and ignores
// everything until the client sends {"session":"<value of /tickle's session>"}; then it confirms
// (`system` with `success`, `sts`), takes `sor+{}` / `str+{}` subscriptions, answers `tic`, and sends a
// `system` heartbeat to the sockets it has let in.
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeIbkrState } from './fakeState.ts';

interface Peer { authorised: boolean; topics: Set<string> }

const cookieSession = (req: IncomingMessage): string | null => {
  const raw = req.headers.cookie ?? '';
  const m = /(?:^|;\s*)api=([^;]+)/.exec(raw);
  if (!m) return null;
  const value = decodeURIComponent(m[1]);
  // Some clients put the JSON object itself in the cookie.
  try { const parsed = JSON.parse(value) as { session?: unknown }; if (typeof parsed.session === 'string') return parsed.session; } catch { /* plain value */ }
  return value;
};

export function createFakeIbkrWs(state: FakeIbkrState, clock: () => number) {
  const wss = new WebSocketServer({ noServer: true });
  const peers = new Map<WebSocket, Peer>();

  const waiting = (ws: WebSocket) => { if (!state.faults.silentStream) ws.send(JSON.stringify({ message: 'waiting for session' })); };

  function admit(ws: WebSocket, peer: Peer): void {
    peer.authorised = true;
    state.counters.wsAuthorised += 1;
    if (state.faults.silentStream) return;
    ws.send(JSON.stringify({ topic: 'system', success: 'fakeuser', isFT: false, isPaper: true }));
    ws.send(JSON.stringify({ topic: 'sts', args: { authenticated: !state.faults.sessionExpired, competing: false, message: '', fail: '', serverName: 'FakeGw', serverVersion: 'Build 10.25.0p', username: 'fakeuser' } }));
    ws.send(JSON.stringify({ topic: 'act', args: { accounts: [...state.accounts], selectedAccount: state.session.selected, isPaper: true } }));
  }

  function onMessage(ws: WebSocket, peer: Peer, text: string): void {
    if (!peer.authorised) {
      let session: unknown;
      try { session = (JSON.parse(text) as { session?: unknown }).session; } catch { session = undefined; }
      // Anything else, subscriptions and `tic` included, is ignored until the right session comes.
      if (typeof session !== 'string') return;
      if (session === state.session.id && !state.faults.refuseWsSession) admit(ws, peer);
      else waiting(ws);
      return;
    }
    if (text === 'tic') {
      if (!state.faults.silentStream) ws.send(JSON.stringify({ topic: 'tic', alive: true, id: 'fake', lastAccessed: clock() }));
      return;
    }
    const sub = /^([su])(or|tr)\+/.exec(text);
    if (sub) {
      const topic = `s${sub[2]}`;
      if (sub[1] === 's') peer.topics.add(topic);
      else peer.topics.delete(topic);
    }
  }

  return {
    handleUpgrade(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
      wss.handleUpgrade(req, socket, head, (ws) => {
        const peer: Peer = { authorised: false, topics: new Set() };
        peers.set(ws, peer);
        ws.on('message', (data) => onMessage(ws, peer, data.toString()));
        ws.on('close', () => peers.delete(ws));
        if (cookieSession(req) === state.session.id) admit(ws, peer);
        else waiting(ws);
      });
    },
    /** To the authorised sockets subscribed to `topic` (`system` reaches every authorised socket). */
    send(topic: string, frame: string): void {
      if (state.faults.silentStream) return;
      for (const [ws, peer] of peers) if (peer.authorised && (topic === 'system' || peer.topics.has(topic))) ws.send(frame);
    },
    /** Every authorised socket, silence or not (a session-status change). */
    broadcast(frame: string): void {
      for (const [ws, peer] of peers) if (peer.authorised) ws.send(frame);
    },
    terminateAll(): void { for (const ws of peers.keys()) ws.terminate(); },
    close(): void { for (const ws of peers.keys()) ws.terminate(); wss.close(); },
    authorisedCount: (): number => [...peers.values()].filter((p) => p.authorised).length,
  };
}
