import type { Command } from 'commander';
import { createWorkflowRepos } from '../store/workflow-repos.js';
import { maskEmail, maskPhone } from '../workflow/contacts.js';
import { formatDateCn, todayIn } from '../workflow/dates.js';
import type { Person } from '../workflow/types.js';
import { withCliContext } from './context.js';

export interface PersonLine {
  name: string;
  role: string;
  township: string;
  villages: string[];
  phone: string | null;
  email: string | null;
  open_id: string | null;
  bound: boolean;
}

/**
 * `people [--unbound] [--json]` (issue 14): the roster with each person's binding to Lark.
 * The table masks phones and emails (it is read over shoulders); --json gives them whole,
 * one line per person, for the admin's own tools.
 */
export function registerPeopleCommand(program: Command): void {
  program
    .command('people')
    .description('查看花名册人员及飞书账号绑定情况')
    .option('--unbound', '只列出未绑定飞书账号的人员', false)
    .option('--json', '每行输出一个 JSON（每人一行，手机号/邮箱不打码）', false)
    .action(async (opts: { unbound: boolean; json: boolean }) => {
      await withCliContext(async ({ db, config }) => {
        const roster = createWorkflowRepos(db).roster;
        const status = new Map(roster.unbound().map((p) => [p.id, p]));
        const people = roster.people().filter((p) => !opts.unbound || p.openId === null);
        const villages = new Map(roster.villages().map((v) => [v.id, v]));
        const lines = people.map((p): PersonLine & { person: Person } => {
          const vs = roster.assignedVillageIds(p.id).map((id) => villages.get(id)).filter((v) => v !== undefined);
          const scope = p.scopeId === null ? undefined : roster.region(p.scopeId);
          const township = scope?.kind === 'township' ? scope.name : (vs[0]?.township ?? '');
          return { person: p, name: p.name, role: p.role, township, villages: vs.map((v) => v.name), phone: p.phone, email: p.email, open_id: p.openId, bound: p.openId !== null };
        });
        if (opts.json) {
          for (const { person: _p, ...l } of lines) process.stdout.write(JSON.stringify(l) + '\n');
          return;
        }
        if (!lines.length) {
          process.stdout.write(opts.unbound ? '所有人员都已绑定飞书账号。\n' : '花名册里没有人员。先用 import 导入花名册。\n');
          return;
        }
        const state = (l: (typeof lines)[number]) => {
          if (l.bound) return '已绑定';
          const u = status.get(l.person.id);
          if (u?.lookupStatus === 'not_found') {
            const when = u.lookupAt ? `，${formatDateCn(todayIn(config.tz, u.lookupAt))}查询` : '';
            return `未绑定（未找到：飞书通讯录中没有此手机号/邮箱，或不在应用可见范围${when}）`;
          }
          return '未绑定（待匹配）';
        };
        const rows = [
          ['姓名', '角色', '乡镇', '负责村', '手机', '邮箱', '状态'],
          ...lines.map((l) => [l.name, l.role, l.township, l.villages.join('、'), maskPhone(l.phone), maskEmail(l.email), state(l)]),
        ];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => width(r[i]!))));
        for (const r of rows) process.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]!))).join('  ').trimEnd() + '\n');
        const unbound = lines.filter((l) => !l.bound).length;
        process.stdout.write(`共 ${lines.length} 人${opts.unbound ? '' : `，已绑定 ${lines.length - unbound} 人`}，未绑定 ${unbound} 人。未绑定的人员收不到提醒和日报。\n`);
      });
    });
}

/** Display width: CJK characters count double. */
function width(s: string): number {
  return [...s].reduce((n, ch) => n + (ch.charCodeAt(0) > 0x2e80 ? 2 : 1), 0);
}

function pad(s: string, w: number): string {
  return s + ' '.repeat(Math.max(0, w - width(s)));
}
