// Halt, reduce and resume through the ops API (POST /ops/halt|reduce|resume), always behind a
// confirmation dialog. The server decides who may act (403 for a viewer); the page only mirrors it by
// disabling the controls, so nothing here is a security boundary.
import { title } from './format.js';

const $ = (id) => document.getElementById(id);

const VERB = { halt: 'Halt', reduce: 'Reduce', resume: 'Resume' };
const EFFECT = {
  halt: 'No new order will be approved',
  reduce: 'Only orders that reduce a position will be approved',
  resume: 'Orders will be approved again, within limits',
};

/**
 * `opts.token()` gives the bearer token; `opts.targets()` what each scope can name; `opts.onDone(msg)`
 * and `opts.onUnauthorized()` report back to the page.
 */
export function setupControls(opts) {
  const dialog = $('confirm');
  const scopeSel = $('ctl-scope');
  const targetSel = $('ctl-target');
  let pending = null;

  function fillTargets() {
    const scope = scopeSel.value;
    const t = opts.targets();
    const names = scope === 'desk' ? ['*'] : scope === 'account' ? t.accounts : scope === 'strategy' ? t.strategies : t.venues;
    const keep = targetSel.value;
    targetSel.replaceChildren(...names.map((n) => {
      const o = document.createElement('option');
      o.value = n;
      o.textContent = n === '*' ? 'whole desk' : n;
      return o;
    }));
    if (names.includes(keep)) targetSel.value = keep;
    targetSel.disabled = scope === 'desk' || !opts.canAct();
  }
  scopeSel.addEventListener('change', fillTargets);

  function ask(action, scope, target) {
    pending = { action, scope, target };
    $('confirm-title').textContent = `${VERB[action]} ${scope === 'desk' ? 'the whole desk' : `${scope} ${target}`}?`;
    $('confirm-text').textContent = `${EFFECT[action]} for ${scope === 'desk' ? 'every account, strategy and venue' : `${scope} ${target}`}. The change is recorded in the audit trail under your name.`;
    $('confirm-reason').value = $('ctl-reason').value;
    $('confirm-ok').textContent = VERB[action];
    $('confirm-ok').className = action;
    $('confirm-error').textContent = '';
    dialog.showModal();
  }

  // One listener for the panel's buttons and every row's: they all carry data-action/-scope/-target.
  document.addEventListener('click', (e) => {
    const b = e.target instanceof Element ? e.target.closest('button[data-action]') : null;
    if (!b || b.disabled) return;
    const scope = b.dataset.scope ?? scopeSel.value;
    const target = b.dataset.target ?? (scope === 'desk' ? '*' : targetSel.value);
    if (!target) return;
    ask(b.dataset.action, scope, target);
  });

  $('confirm-cancel').addEventListener('click', () => { pending = null; dialog.close(); });
  $('confirm-ok').addEventListener('click', async () => {
    if (!pending) return;
    const { action, scope, target } = pending;
    const reason = $('confirm-reason').value.trim();
    $('confirm-ok').disabled = true;
    try {
      const res = await fetch(`/ops/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.token()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scope, ...(scope === 'desk' ? {} : { target }), ...(reason ? { reason } : {}) }),
      });
      if (res.status === 401) { dialog.close(); opts.onUnauthorized(); return; }
      const body = await res.json().catch(() => ({}));
      if (!res.ok) { $('confirm-error').textContent = body.error?.message ?? `refused (${res.status})`; return; }
      pending = null;
      dialog.close();
      opts.onDone(`${VERB[action]}: ${title(scope)} ${scope === 'desk' ? '' : target} → ${body.current?.state ?? 'done'}`);
    } catch {
      $('confirm-error').textContent = 'the edge did not answer; nothing is known to have changed';
    } finally {
      $('confirm-ok').disabled = false;
    }
  });

  return {
    /** Re-reads targets and role; called when the session or the feed's targets change. */
    refresh() {
      fillTargets();
      const can = opts.canAct();
      for (const b of $('controls').querySelectorAll('button[data-action]')) b.disabled = !can;
      $('ctl-reason').disabled = !can;
      scopeSel.disabled = !can;
      $('ctl-note').textContent = can ? '' : 'Read-only: your role is viewer. Halt, reduce and resume need an operator token.';
    },
  };
}
