import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';

/**
 * One writer per SQLite DATA_DIR (issue 16). The service takes DATA_DIR/huanjie.lock at start:
 * a file created exclusively ('wx') holding the owner's PID (first line) and, on Linux, what tells
 * that process apart from a later one given the same PID (boot id and start time from /proc).
 * A second service on the same directory is refused; a lock left by a process that is gone
 * (kill -9, a crash, a container restarted with the same volume) is taken over.
 *
 * Only the service takes it: CLI commands (db backup, import) run beside a live service and
 * rely on SQLite's own locking. Not used with PostgreSQL, where several instances are allowed.
 */
export const LOCK_FILE = 'huanjie.lock';

export class DataDirLockedError extends UserError {
  constructor(
    public readonly dataDir: string,
    public readonly holderPid: number,
  ) {
    super(
      `另一个换届助手进程（PID ${holderPid}）正在使用数据目录 ${dataDir}；同一数据目录只能运行一个服务。` +
        `请先停止该进程（kill ${holderPid}），或为新服务另设 DATA_DIR。`,
      'conflict',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  release(): void;
}

/** Locks taken by this process (a PID in a lock file equal to ours that is not in here is a previous life's). */
const held = new Set<string>();

interface Owner {
  pid: number;
  boot?: string;
  start?: string;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Start time of a process in clock ticks since boot (/proc/PID/stat field 22); undefined off Linux. */
function startTimeOf(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19];
}

const bootId = (): string | undefined => readProc('/proc/sys/kernel/random/boot_id')?.trim();

function me(): Owner {
  return { pid: process.pid, boot: bootId(), start: startTimeOf(process.pid) };
}

function format(o: Owner): string {
  return `${o.pid}\n` + (o.boot ? `boot ${o.boot}\n` : '') + (o.start ? `start ${o.start}\n` : '');
}

function parse(text: string): Owner | null {
  const [first, ...rest] = text.split('\n');
  const pid = Number(first?.trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const o: Owner = { pid };
  for (const line of rest) {
    const [k, v] = line.trim().split(/\s+/, 2);
    if (k === 'boot' && v) o.boot = v;
    if (k === 'start' && v) o.start = v;
  }
  return o;
}

/** Whether the process that wrote this lock still runs: alive, a node process, the same boot and start time. */
function ownerAlive(o: Owner): boolean {
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const cmdline = readProc(`/proc/${o.pid}/cmdline`);
  if (cmdline !== undefined) {
    // A PID reused by another program (after a reboot or in a restarted container) is not our service.
    const argv0 = cmdline.split('\0')[0] ?? '';
    const comm = readProc(`/proc/${o.pid}/comm`)?.trim() ?? '';
    if (!/node/i.test(argv0) && !/node/i.test(comm)) return false;
    if (o.boot && o.boot !== bootId()) return false;
    if (o.start && o.start !== startTimeOf(o.pid)) return false;
  }
  return true;
}

function readOwner(path: string): Owner | null | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parse(text);
}

/** The live PID holding DATA_DIR's lock; null when there is no lock or it is stale. */
export function dataDirLockHolder(dataDir: string): number | null {
  const path = join(resolve(dataDir), LOCK_FILE);
  let o: Owner | null | undefined;
  try {
    o = readOwner(path);
  } catch {
    return null;
  }
  if (!o) return null;
  if (o.pid === process.pid) return held.has(path) ? o.pid : null;
  return ownerAlive(o) ? o.pid : null;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Takes DATA_DIR/huanjie.lock for this process, or throws DataDirLockedError naming the live holder.
 * System errors (EACCES, EROFS, ENOSPC, ENOTDIR…) are thrown as they are: the caller words them.
 * The lock is released by release() and, failing that, when the process exits.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);
  mkdirSync(dir, { recursive: true });
  const mine = me();
  for (let attempt = 0; ; attempt++) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, format(mine));
      } catch (e) {
        closeSync(fd);
        try {
          unlinkSync(path);
        } catch {
          /* nothing to undo */
        }
        throw e;
      }
      closeSync(fd);
      held.add(path);
      return lockHandle(path, mine);
    }
    const o = readOwner(path);
    if (o === undefined) continue; // removed meanwhile: try again
    if (o === null) {
      // Empty or garbled: a process that died between creating and writing it, or one writing it right now.
      if (attempt < 20 && Date.now() - mtimeMs(path) < 2000) {
        sleepSync(50);
        continue;
      }
    } else if (o.pid === process.pid ? held.has(path) : ownerAlive(o)) {
      throw new DataDirLockedError(dir, o.pid);
    }
    if (attempt >= 20) throw new DataDirLockedError(dir, o?.pid ?? 0);
    takeOver(path, o);
  }
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Removes a stale lock, under a short-lived guard so that two services taking over the same stale
 * lock at once cannot both win (one would otherwise delete the lock the other just created).
 */
function takeOver(path: string, stale: Owner | null): void {
  const guard = path + '.takeover';
  for (let i = 0; ; i++) {
    try {
      closeSync(openSync(guard, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A guard older than a few seconds was left by a process killed mid-takeover.
      if (Date.now() - mtimeMs(guard) > 5000 || i > 100) {
        try {
          unlinkSync(guard);
        } catch {
          /* gone already */
        }
      } else sleepSync(20);
    }
  }
  try {
    const now = readOwner(path);
    const same = now === undefined || (now === null ? stale === null : stale !== null && now.pid === stale.pid && now.start === stale.start);
    if (same && now !== undefined) unlinkSync(path);
  } finally {
    try {
      unlinkSync(guard);
    } catch {
      /* gone already */
    }
  }
}

function lockHandle(path: string, mine: Owner): DataDirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    held.delete(path);
    try {
      const o = readOwner(path);
      // Only our own lock: never one a later process took over.
      if (o && o.pid === mine.pid && o.start === mine.start) unlinkSync(path);
    } catch {
      /* the directory is gone or unreadable: nothing left to release */
    }
  };
  process.on('exit', release);
  return { release };
}
