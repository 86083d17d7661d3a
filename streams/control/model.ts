// The control plane's pure core: what an ops change is, the Control record that carries it, and the
// value stored in Postgres and in the audit trail. Validation is the processors' own (validateControl
// in streams/decide/controlFold.ts), so the ops API can never accept what a processor would refuse.
import type { Control, Scope, TradingState } from '../../schemas/types.ts';
import { validateControl, type ControlIssue } from '../decide/controlFold.ts';

/** The kinds ops manage here; COST_MODEL records pass through the topic untouched. */
export type ManagedKind = 'TRADING_STATE' | 'LIMITS';

export type OpsAction = 'HALT' | 'REDUCE' | 'RESUME' | 'SET_LIMITS' | 'CLEAR_LIMITS' | 'FROM_TOPIC' | 'REPUBLISH';

export type Role = 'viewer' | 'operator' | 'admin';

export const STATE_FOR: Readonly<Record<'HALT' | 'REDUCE' | 'RESUME', TradingState>> = { HALT: 'HALTED', REDUCE: 'REDUCING', RESUME: 'ACTIVE' };

/** TRADING_STATE: `{ state }`; LIMITS: the payload object. Null: nothing set (the row is absent). */
export type ControlValue = Readonly<Record<string, unknown>>;

export interface ControlRequest {
  readonly kind: ManagedKind;
  readonly scope: Scope;
  readonly target: string;
  readonly value: ControlValue | null;
  readonly action: OpsAction;
  readonly actor: string;
  readonly role: Role | null;
  readonly reason: string | null;
}

export interface ControlIds { readonly controlId: string; readonly at: number; readonly hlc: number }

export { controlKey } from '../../schemas/controlKey.ts';

export const isManaged = (kind: string): kind is ManagedKind => kind === 'TRADING_STATE' || kind === 'LIMITS';

export function toControl(req: ControlRequest, ids: ControlIds): Control {
  const state = req.kind === 'TRADING_STATE' && req.value !== null ? (req.value.state as TradingState) : null;
  const payload = req.kind === 'LIMITS' && req.value !== null ? JSON.stringify(req.value) : null;
  return {
    controlId: ids.controlId, kind: req.kind, scope: req.scope, target: req.target, state, payload,
    actor: req.actor, reason: req.reason, at: ids.at, hlc: ids.hlc,
  };
}

/** The value a record carries, for the mirror. Throws on a payload that is not a JSON object. */
export function valueOf(control: Control): ControlValue | null {
  if (control.kind === 'TRADING_STATE') return control.state === null ? null : { state: control.state };
  if (control.payload === null) return null;
  const parsed: unknown = JSON.parse(control.payload);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('LIMITS payload is not a JSON object');
  return parsed as ControlValue;
}

/** Refuses what a processor would refuse; `field` names the request's field (`target`, `maxPosition`...). */
export function checkRequest(req: ControlRequest): ControlIssue | null {
  if (req.kind === 'TRADING_STATE' && req.value !== null) {
    const state = req.value.state;
    if (state !== 'ACTIVE' && state !== 'REDUCING' && state !== 'HALTED') return { field: 'state', message: 'expected ACTIVE, REDUCING or HALTED' };
  }
  const issue = validateControl(toControl(req, { controlId: 'check', at: 0, hlc: 0 }));
  if (issue === null) return null;
  // The body of PUT /ops/limits is the payload itself, so its fields are named without the prefix.
  return { field: issue.field.startsWith('payload.') ? issue.field.slice('payload.'.length) : issue.field, message: issue.message };
}

/** Key order does not make two values different. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

/** viewer reads; operator also halts, reduces and resumes; admin also changes limits. */
export const mayAct = (role: Role, needed: Role): boolean => RANK[role] >= RANK[needed];
