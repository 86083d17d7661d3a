// A processor SIGKILLed and started again takes its dead predecessor's place in the consumer group
// (streams/runtime/membership.ts) instead of waiting for the broker to expire it; another instance of
// the same kind, alive, keeps its place. Two projection instances as processes (INSTANCE_ID a and b).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin } from 'kafkajs';
import { isolatedEnv, testKafka, waitFor } from '../helpers/env.ts';
import { kill, spawnComponent, type Child } from '../helpers/processes.ts';

describe('a restarted instance replaces its dead predecessor in the group', () => {
  const env = isolatedEnv({ LOG_LEVEL: 'info' });
  const group = `${env.TOPIC_PREFIX}order-router-projection`;
  const children: Child[] = [];
  let admin: Admin | null = null;
  const start = (id: string) => {
    const c = spawnComponent('projection', { ...env, INSTANCE_ID: id });
    children.push(c);
    return c;
  };
  const members = async () => {
    const { groups } = await admin!.describeGroups([group]);
    return groups[0];
  };
  after(async () => {
    await Promise.all(children.map((c) => kill(c, 'SIGTERM')));
    await admin?.disconnect();
  });

  it('given instances a and b in the group and a SIGKILLed, when a starts again, then its old member is removed and b keeps its place', async () => {
    admin = testKafka(env).admin();
    await admin.connect();
    const a = start('a');
    const b = start('b');
    const both = await waitFor('a and b in the group', async () => {
      const g = await members();
      return g.state === 'Stable' && g.members.length === 2 ? g.members : null;
    }, 90_000);
    const byClient = new Map(both.map((m) => [m.clientId, m.memberId]));
    const deadA = byClient.get('order-router-projection-a');
    const liveB = byClient.get('order-router-projection-b');
    assert.ok(deadA !== undefined && liveB !== undefined, `client ids carry the instance: ${[...byClient.keys()].join(', ')}`);

    await kill(a); // SIGKILL: no LeaveGroup, the broker still counts the member
    assert.ok((await members()).members.some((m) => m.memberId === deadA), 'the dead member is still in the group');
    const a2 = start('a');
    await waitFor('the restarted a to remove its predecessor', async () => a2.output().includes('previous incarnation removed from the group'), 90_000);
    const again = await waitFor('a and b in the group again', async () => {
      const g = await members();
      return g.state === 'Stable' && g.members.length === 2 && g.members.every((m) => m.memberId !== deadA) ? g.members : null;
    }, 90_000);
    assert.ok(again.some((m) => m.memberId === liveB), 'b kept its member id: it was not removed');
    assert.ok(again.some((m) => m.clientId === 'order-router-projection-a'), 'a is back');
    assert.equal(b.proc.exitCode, null, 'b still runs');
  });
});
