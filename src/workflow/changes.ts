import { UserError } from '../errors.js';
import { inTransaction } from '../store/db.js';
import type { ChangeRow, EntityRef, EntitySnapshot } from '../store/changes-repo.js';
import type { WorkflowContext } from './context.js';

/**
 * Applying a change from chat: once per source (message_id / card event),
 * with before/after snapshots in the change log and an audit row, all in one
 * transaction.
 */
export interface ChangeResult {
  summary: string;
  /** True when this source had already been recorded (a redelivery or a re-run after a crash). */
  replayed: boolean;
  changeId: number;
}

export interface ChangeSpec {
  sourceId: string;
  actor: string;
  kind: string;
  target: string;
  /** Rows that will be touched and exist already (or may). */
  touches: EntityRef[];
  /** Does the work; returns rows it created (new ids) so they are snapshotted too. */
  mutate: () => EntityRef[] | void;
  /** What the sender is told; a function when it names something the mutation created. */
  summary: string | (() => string);
}

export function replayOf(ctx: WorkflowContext, sourceId: string): ChangeResult | undefined {
  const prev = ctx.repos.changes.bySource(sourceId);
  return prev ? { summary: prev.summary, replayed: true, changeId: prev.id } : undefined;
}

export function applyChange(ctx: WorkflowContext, spec: ChangeSpec): ChangeResult {
  const { changes, audit } = ctx.repos;
  return inTransaction(ctx.repos.db, () => {
    // Checked again inside the write lock: two deliveries racing still record once.
    const replay = replayOf(ctx, spec.sourceId);
    if (replay) return replay;
    const before = spec.touches.map((r) => changes.snapshot(r));
    const created = spec.mutate() ?? [];
    for (const r of created) before.push({ ...r, row: null });
    const after = before.map((b) => changes.snapshot(b));
    const at = ctx.clock.now();
    const summary = typeof spec.summary === 'function' ? spec.summary() : spec.summary;
    const id = changes.insert({ source_id: spec.sourceId, actor: spec.actor, at, kind: spec.kind, target: spec.target, before, after, summary });
    audit.record({
      at,
      actor: spec.actor,
      action: spec.kind,
      target: spec.target,
      before: rowsOf(before),
      after: rowsOf(after),
      detail: `source=${spec.sourceId}`,
    });
    return { summary, replayed: false, changeId: id };
  });
}

function rowsOf(s: EntitySnapshot[]): unknown {
  return s.length === 1 ? s[0]!.row : s.map((x) => ({ [x.entity]: x.row }));
}

/** Extra checks before undoing one kind of change (e.g. a stage others depend on). Throw a UserError to refuse. */
export type UndoGuard = (change: ChangeRow, before: EntitySnapshot[]) => void;

/**
 * 撤销: puts back the rows of the sender's last change that is not undone yet.
 * Refused when someone changed those rows since (their work would be lost).
 */
export function undoLast(ctx: WorkflowContext, actor: string, sourceId: string, guard?: UndoGuard): ChangeResult {
  const { changes, audit } = ctx.repos;
  const replay = replayOf(ctx, sourceId);
  if (replay) return replay;
  return inTransaction(ctx.repos.db, () => {
    const again = replayOf(ctx, sourceId);
    if (again) return again;
    const last = changes.lastUndoable(actor);
    if (!last) throw new UserError('没有可以撤销的登记。');
    const before = JSON.parse(last.before) as EntitySnapshot[];
    const after = JSON.parse(last.after) as EntitySnapshot[];
    for (const a of after) {
      const now = changes.snapshot(a);
      if (JSON.stringify(now.row) !== JSON.stringify(a.row)) {
        throw new UserError(`「${last.summary}」之后该记录已被再次修改，不能撤销；如需更正请直接重新登记。`, 'conflict');
      }
    }
    guard?.(last, before);
    for (const b of [...before].reverse()) changes.restore(b);
    const at = ctx.clock.now();
    const summary = `已撤销：${last.summary}`;
    const id = changes.insert({ source_id: sourceId, actor, at, kind: 'undo', target: last.target, before: after, after: before, summary, undoes: last.id });
    changes.markUndone(last.id, id);
    audit.record({ at, actor, action: 'undo', target: last.target, before: rowsOf(after), after: rowsOf(before), detail: `undoes change ${last.id} (${last.kind}); source=${sourceId}` });
    return { summary, replayed: false, changeId: id };
  });
}
