import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { AppError, isStorageFullError, StorageFullError } from '../errors.js';
import { limitHeapGrowth } from '../heap.js';

limitHeapGrowth();
// `people --json | head`: a reader that stops early is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command()
  .name('huanjie')
  .description('换届助手命令行 (npm run cli -- <command>)')
  .exitOverride();

type Register = (program: Command) => void;
/**
 * Each top-level command and the modules that register it. Only the command being run is
 * loaded: loading them all (knowledge base, chat runtime, exports…) cost a province import
 * about 90 MB of its 400 MB budget before reading a byte. Help and unknown commands load all.
 */
const COMMANDS: Record<string, () => Promise<Register[]>> = {
  chat: async () => [(await import('./chat.js')).registerChatCommand],
  console: async () => [(await import('./console.js')).registerConsoleCommands],
  db: async () => [(await import('./db.js')).registerDbCommands, (await import('./db-postgres.js')).registerPostgresCommands],
  kb: async () => [(await import('./kb.js')).registerKbCommands],
  import: async () => [(await import('./import.js')).registerImportCommands],
  people: async () => [(await import('./people.js')).registerPeopleCommand],
  progress: async () => [(await import('./progress.js')).registerProgressCommand],
  reminders: async () => [(await import('./reminders.js')).registerReminderCommands],
  report: async () => [(await import('./report.js')).registerReportCommands],
  digest: async () => [(await import('./report.js')).registerReportCommands],
};
const asked = process.argv[2];
const loaders = asked !== undefined && Object.hasOwn(COMMANDS, asked) ? [COMMANDS[asked]!] : Object.values(COMMANDS);
const registered = new Set<Register>();
for (const load of loaders) {
  for (const register of await load()) {
    if (registered.has(register)) continue;
    registered.add(register);
    register(program);
  }
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode;
  } else if (isStorageFullError(e) && !(e instanceof AppError)) {
    process.stderr.write(`${new StorageFullError({ cause: e }).userMessage}\n`);
    process.exitCode = 2;
  } else if (e instanceof ConfigError || e instanceof AppError) {
    process.stderr.write(`${e instanceof AppError ? e.userMessage : e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  }
}
