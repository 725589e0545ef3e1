import { larkContacts, type ContactDirectory, type LarkContactsOptions } from '../bot/lark-contacts.js';
import type { Runtime } from '../runtime.js';
import { createContactLookupRepo } from '../store/contact-lookup-repo.js';
import { ContactsResolver } from './contacts-resolve.js';
import { createSenderBinder, type SenderBinder } from './contacts-sender.js';

export interface ContactsSystem {
  directory: ContactDirectory;
  resolver: ContactsResolver;
  sender: SenderBinder;
}

/**
 * Issue 14, online only (LARK_APP_ID set): the resolver runs on every scheduler tick
 * (at start, then each minute; under the scheduler's PostgreSQL lock, so one instance
 * calls Lark at a time), and first messages of unknown senders may bind them. Offline
 * nothing is looked up: people known by phone/email stay 未绑定.
 */
export function registerContacts(rt: Runtime, opts: LarkContactsOptions & { maxPeoplePerTick?: number } = {}): ContactsSystem | undefined {
  if (!rt.larkClient) return undefined;
  const logger = rt.logger.child({ component: 'contacts' });
  const directory = larkContacts(rt.larkClient, logger, opts);
  const roster = rt.workflow.repos.roster;
  const lookups = createContactLookupRepo(rt.db);
  const resolver = new ContactsResolver(
    { db: rt.db, roster, lookups, audit: rt.repos.audit, directory, clock: rt.clock, logger },
    { maxPeoplePerTick: opts.maxPeoplePerTick },
  );
  rt.reminders.scheduler.addTickTask('contacts', async () => {
    await resolver.tick();
  });
  // Shutdown: the tick stops between batches (the scheduler's stop awaits the pass).
  rt.addService({ start: () => undefined, stop: async () => resolver.stop() });
  const sender = createSenderBinder({ roster, audit: rt.repos.audit, directory, rosterSize: () => lookups.counts().total, now: () => rt.clock.now(), logger });
  return { directory, resolver, sender };
}
