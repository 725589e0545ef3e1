import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { AppError, isStorageFullError, StorageFullError } from '../errors.js';
import { registerChatCommand } from './chat.js';
import { registerConsoleCommands } from './console.js';
import { registerDbCommands } from './db.js';
import { registerPostgresCommands } from './db-postgres.js';
import { registerKbCommands } from './kb.js';
import { registerImportCommands } from './import.js';
import { registerPeopleCommand } from './people.js';
import { registerProgressCommand } from './progress.js';
import { registerReminderCommands } from './reminders.js';
import { registerReportCommands } from './report.js';
import { limitHeapGrowth } from '../heap.js';

limitHeapGrowth();

const program = new Command()
  .name('huanjie')
  .description('换届助手命令行 (npm run cli -- <command>)')
  .exitOverride();

registerChatCommand(program);
registerConsoleCommands(program);
registerDbCommands(program);
registerPostgresCommands(program);
registerKbCommands(program);
registerImportCommands(program);
registerPeopleCommand(program);
registerProgressCommand(program);
registerReminderCommands(program);
registerReportCommands(program);

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
