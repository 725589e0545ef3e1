import { COMMANDS } from '../../src/handlers/commands.js';
import { wrongValues } from './user-text.js';

/**
 * Wrong-typed card callbacks and chat commands (issue 17 item 7), shared by the handler test
 * (tests/handlers/validation-messages.test.ts, in process) and the fault attack
 * (tests/faults/validation-messages.fault.ts, against the service process).
 *
 * The card actions are not listed here: the callers take them from a real runtime's
 * `cardActions` map (what card-action.ts routes on). Each needs a well-formed press below, the
 * base every field of which is then replaced by each wrong value; an action registered without
 * one makes `cardProbes` throw, so a new button cannot go untested.
 */
export interface ProbeIds {
  /** A village the sender may write, its name and a stage key of it. */
  villageId: number;
  villageName: string;
  stageKey: string;
  stageName: string;
  /** A talk the sender may record. */
  talkId: number;
}

export interface CardPress {
  value: Record<string, unknown>;
  formValue?: Record<string, unknown>;
}

export const CARD_SAMPLES: Record<string, (ids: ProbeIds) => CardPress> = {
  qa_feedback: () => ({ value: { action: 'qa_feedback', question_id: 1, vote: 'up' } }),
  checkin_submit: (ids) => ({
    value: { action: 'checkin_submit' },
    formValue: { village: String(ids.villageId), stage: ids.stageKey, status: '进行中', date: '2026-11-04 +0800', note: '按计划推进' },
  }),
  reminder_done: (ids) => ({ value: { action: 'reminder_done', item: `stage:${ids.villageId}:${ids.stageKey}` } }),
  import_confirm: () => ({ value: { action: 'import_confirm', m: 'om_vm_file', c: 'oc_vm_chat', k: 'file_vm_key', n: '花名册.xlsx', t: '0123456789abcdef' } }),
  reminder_snooze: (ids) => ({ value: { action: 'reminder_snooze', item: `talk:${ids.talkId}`, days: 1 } }),
};

export interface CardProbe extends CardPress {
  action: string;
  /** What was changed, for the report: `value.days = null`. */
  what: string;
  /** The strings sent (a reply may echo them). */
  sent: string[];
}

const show = (v: unknown) => (v === undefined ? '(missing)' : JSON.stringify(v)?.slice(0, 24) ?? String(v));

function stringsIn(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringsIn(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) stringsIn(x, out);
  else if (typeof v === 'number') out.push(String(v));
  return out;
}

export function cardProbes(actions: Iterable<string>, ids: ProbeIds): CardProbe[] {
  const out: CardProbe[] = [];
  for (const action of actions) {
    const sample = CARD_SAMPLES[action];
    if (!sample) throw new Error(`card action "${action}" has no well-formed press in tests/helpers/validation-probes.ts CARD_SAMPLES: add one so its wrong-typed fields are tested`);
    const base = sample(ids);
    const push = (what: string, p: CardPress) => out.push({ action, what, ...p, sent: stringsIn([p.value, p.formValue]) });
    push('well-formed', base);
    for (const part of ['value', 'formValue'] as const) {
      const fields = base[part];
      if (!fields) continue;
      for (const [k, valid] of Object.entries(fields)) {
        if (part === 'value' && k === 'action') continue;
        for (const wrong of wrongValues(valid)) {
          const copy = structuredClone(base);
          const target = copy[part]!;
          if (wrong === undefined) delete target[k];
          else target[k] = wrong;
          push(`${part}.${k} = ${show(wrong)}`, copy);
        }
      }
    }
    // The whole form as something else than an object, and an empty form.
    if (base.formValue) {
      for (const junk of [null, [], 'x', 1, {}]) push(`formValue = ${show(junk)}`, { value: base.value, formValue: junk as never });
    }
  }
  return out;
}

/** Argument words of the wrong kind: numbers where names go, names where numbers go, junk. */
const JUNK_ARGS = [
  '123', '-1', '0', '1.5', '1e999', '9'.repeat(40), 'null', 'undefined', 'NaN', 'true', '[1,2]', '{"a":1}', '[]', '😀', '𠀀𠀁', '\u202e反', 'x'.repeat(700),
  '城'.repeat(700), '#0', '#99999999999', 'R1', '女性=abc', '党员比例=NaN%', '一肩挑=null', '大学生=-1', '35岁以下=1e9', '2026-13-45', '13月45日', '资格审查',
  '进行中', '信访', '完成', '跟进', '销号', '严重', '必查', '已签承诺书',
];

export interface CommandProbe {
  text: string;
  sent: string[];
}

/** Every command word of the COMMANDS table (aliases once) with wrong-kind arguments. */
export function commandProbes(ids: ProbeIds): CommandProbe[] {
  const out: CommandProbe[] = [];
  const add = (words: string[]) => out.push({ text: words.join(' '), sent: words });
  for (const c of COMMANDS) {
    add([c.name]);
    for (const a of c.aliases) add([a, JUNK_ARGS[a.length % JUNK_ARGS.length]!]);
    for (const j of JUNK_ARGS) {
      add([c.name, j]);
      add([c.name, ids.villageName, j]);
      add([c.name, ids.villageName, ids.stageName, j]);
    }
  }
  return out;
}
