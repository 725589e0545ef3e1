import type { Db } from '../store/db.js';
import type { Citation } from './citation.js';

/** The question log (every question, answered or not) and 👍/👎 feedback on answers. */
export interface LoggedQuestion {
  askedAt: number;
  askerOpenId: string | null;
  channel: string;
  question: string;
  answer: string;
  citations: Citation[];
  abstained: boolean;
  topScore: number | null;
  mode: 'offline' | 'llm';
}

export interface UnansweredRow {
  id: number;
  asked_at: number;
  asker_open_id: string | null;
  question: string;
  abstained: number;
  top_score: number | null;
  down_votes: number;
  up_votes: number;
}

export class QuestionLog {
  constructor(private readonly db: Db) {}

  log(q: LoggedQuestion): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO kb_questions (asked_at, asker_open_id, channel, question, answer, citations, abstained, top_score, mode)
           VALUES (?,?,?,?,?,?,?,?,?)`,
        )
        .run(q.askedAt, q.askerOpenId, q.channel, q.question, q.answer, JSON.stringify(q.citations), q.abstained ? 1 : 0, q.topScore, q.mode)
        .lastInsertRowid,
    );
  }

  exists(questionId: number): boolean {
    return this.db.prepare('SELECT 1 FROM kb_questions WHERE id = ?').get(questionId) !== undefined;
  }

  /** One vote per person per question; voting again replaces the earlier vote. */
  vote(questionId: number, voter: string, vote: 'up' | 'down', at: number): void {
    this.db
      .prepare(
        `INSERT INTO kb_feedback (question_id, voter_open_id, vote, voted_at) VALUES (?,?,?,?)
         ON CONFLICT (question_id, voter_open_id) DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at`,
      )
      .run(questionId, voter, vote, at);
  }

  /** Questions the bot declined, or whose answer someone voted down, since `since` (ms). */
  unanswered(since: number, limit = 200): UnansweredRow[] {
    return this.db
      .prepare(
        `SELECT q.id, q.asked_at, q.asker_open_id, q.question, q.abstained, q.top_score,
           COALESCE(SUM(CASE WHEN f.vote = 'down' THEN 1 ELSE 0 END), 0) AS down_votes,
           COALESCE(SUM(CASE WHEN f.vote = 'up' THEN 1 ELSE 0 END), 0) AS up_votes
         FROM kb_questions q LEFT JOIN kb_feedback f ON f.question_id = q.id
         WHERE q.asked_at >= ?
         GROUP BY q.id
         HAVING q.abstained = 1 OR SUM(CASE WHEN f.vote = 'down' THEN 1 ELSE 0 END) > 0
         ORDER BY q.asked_at DESC LIMIT ?`,
      )
      .all(since, limit) as UnansweredRow[];
  }

  counts(): { questions: number; abstained: number; up: number; down: number } {
    const q = this.db.prepare('SELECT count(*) AS n, COALESCE(SUM(abstained), 0) AS a FROM kb_questions').get() as { n: number; a: number };
    const f = this.db
      .prepare(
        `SELECT COALESCE(SUM(CASE WHEN vote = 'up' THEN 1 ELSE 0 END), 0) AS up, COALESCE(SUM(CASE WHEN vote = 'down' THEN 1 ELSE 0 END), 0) AS down FROM kb_feedback`,
      )
      .get() as { up: number; down: number };
    return { questions: q.n, abstained: q.a, up: f.up, down: f.down };
  }
}
