import type { AnswerResult } from './service.js';

/**
 * The answer as a Lark card (JSON 2.0), using only markdown, hr, column_set/column and
 * button elements. Quotes are cut so the whole card stays under Lark's 30 KB limit.
 */
export const MAX_CARD_BYTES = 30_000;
const QUOTE_CHARS = [600, 300, 150, 80];

/** Lark markdown treats these as markup; user-visible text is escaped. */
function esc(s: string): string {
  return s.replace(/([\\*_~`<>[\]])/g, '\\$1');
}

function clip(s: string, n: number): string {
  const chars = Array.from(s);
  return chars.length > n ? chars.slice(0, n - 1).join('') + '…' : s;
}

function feedbackButtons(questionId: number): Record<string, unknown> {
  const button = (vote: 'up' | 'down', content: string) => ({
    tag: 'column',
    width: 'auto',
    elements: [
      {
        tag: 'button',
        text: { tag: 'plain_text', content },
        type: 'default',
        behaviors: [{ type: 'callback', value: { action: 'qa_feedback', question_id: questionId, vote } }],
      },
    ],
  });
  return { tag: 'column_set', flex_mode: 'none', columns: [button('up', '👍 有用'), button('down', '👎 没用')] };
}

function card(title: string, template: string, elements: unknown[]): Record<string, unknown> {
  return {
    schema: '2.0',
    config: { update_multi: true },
    header: { title: { tag: 'plain_text', content: title }, template },
    body: { elements },
  };
}

/** The question; a follow-up also shows the question it was answered as. */
function questionLine(a: Pick<AnswerResult, 'question' | 'asked'>): string {
  const asked = a.asked && a.asked !== a.question ? `\n<font color='grey'>（接上一问，按“${esc(clip(a.asked, 200))}”回答）</font>` : '';
  return `**问题**：${esc(clip(a.question, 200))}${asked}`;
}

export function buildAnswerCard(a: AnswerResult): Record<string, unknown> {
  // Nothing indexed yet: an instruction for the admin, not a declined answer (no 👍/👎 to give).
  if (a.libraryEmpty) return card('政策问答：知识库为空', 'orange', [{ tag: 'markdown', content: esc(a.answer) }]);
  if (a.abstained) {
    return card('政策问答：未找到依据', 'grey', [
      { tag: 'markdown', content: questionLine(a) },
      { tag: 'markdown', content: esc(a.answer) },
      { tag: 'hr' },
      feedbackButtons(a.questionId),
    ]);
  }
  for (const limit of QUOTE_CHARS) {
    const elements: unknown[] = [
      { tag: 'markdown', content: questionLine(a) },
      { tag: 'markdown', content: `**答复**：${esc(clip(a.answer, 800))}` },
      { tag: 'hr' },
      { tag: 'markdown', content: '**依据**' },
      ...a.citations.map((c, i) => ({
        tag: 'markdown',
        content: `${i + 1}. 《${esc(c.title)}》${esc(c.locator)}${c.version ? `（${esc(c.version)}）` : ''}\n> ${esc(clip(c.text, limit)).replace(/\n/g, '\n> ')}`,
      })),
      { tag: 'markdown', content: `<font color='grey'>${a.mode === 'llm' ? '答复由模型依据上述条文生成，' : ''}以原文为准；如与本地最新文件不一致，请以乡镇换届办解释为准。</font>` },
      { tag: 'hr' },
      feedbackButtons(a.questionId),
    ];
    const c = card('政策问答', 'blue', elements);
    if (Buffer.byteLength(JSON.stringify(c), 'utf8') <= MAX_CARD_BYTES) return c;
  }
  // Still too large (many long citations): keep only the first quote, shortest.
  return buildAnswerCard({ ...a, citations: a.citations.slice(0, 1).map((c) => ({ ...c, text: clip(c.text, 80) })) });
}

/** The element of the streaming card whose text grows as the answer is written. */
export const STREAM_ELEMENT_ID = 'answer';

/** The streamed element's text: the checked answer so far. */
export function streamingAnswerText(draft: string): string {
  return `**答复**：${esc(clip(draft, 800))}`;
}

/**
 * The card an answer is streamed into (CardKit, streaming mode): the question, the
 * answer growing sentence by sentence, and a note that it is still being checked.
 * When the answer is complete it is replaced by buildAnswerCard's card.
 */
export function buildStreamingAnswerCard(question: string): Record<string, unknown> {
  const c = card('政策问答', 'blue', [
    { tag: 'markdown', content: `**问题**：${esc(clip(question, 200))}` },
    { tag: 'markdown', element_id: STREAM_ELEMENT_ID, content: '**答复**：正在查找依据……' },
    { tag: 'markdown', content: "<font color='grey'>答复生成中，每句话核对条文后显示。</font>" },
  ]);
  return {
    ...c,
    config: {
      ...(c.config as Record<string, unknown>),
      streaming_mode: true,
      summary: { content: '[答复生成中]' },
      streaming_config: { print_frequency_ms: { default: 50 }, print_step: { default: 2 }, print_strategy: 'fast' },
    },
  };
}

/** A streamed card whose answer could not be completed: the reason, in place of the half-written text. */
export function buildErrorCard(message: string): Record<string, unknown> {
  return card('政策问答：未能完成', 'grey', [{ tag: 'markdown', content: esc(message) }]);
}
