import type { Db } from './db.js';
import { createAuditRepo, type AuditRepo } from './audit-repo.js';
import { createChangesRepo, createImportsRepo, type ChangesRepo, type ImportsRepo } from './changes-repo.js';
import { createPlanRepo, type PlanRepo } from './plan-repo.js';
import { createRisksRepo, type RisksRepo } from './risks-repo.js';
import { createRosterRepo, type RosterRepo } from './roster-repo.js';
import { createStructureRepo, type StructureRepo } from './structure-repo.js';
import { createTalksRepo, type TalksRepo } from './talks-repo.js';

/** The repositories of the election plan, over one database. */
export interface WorkflowRepos {
  db: Db;
  roster: RosterRepo;
  plan: PlanRepo;
  talks: TalksRepo;
  risks: RisksRepo;
  structure: StructureRepo;
  changes: ChangesRepo;
  imports: ImportsRepo;
  audit: AuditRepo;
}

export function createWorkflowRepos(db: Db, audit?: AuditRepo): WorkflowRepos {
  return {
    db,
    roster: createRosterRepo(db),
    plan: createPlanRepo(db),
    talks: createTalksRepo(db),
    risks: createRisksRepo(db),
    structure: createStructureRepo(db),
    changes: createChangesRepo(db),
    imports: createImportsRepo(db),
    audit: audit ?? createAuditRepo(db),
  };
}
