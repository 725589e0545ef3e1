/**
 * Renders a card JSON 2.0 as readable terminal text, for the CLI chat and logs.
 * Only the elements this project builds are rendered; anything else is named.
 */
export function renderCardText(card: unknown): string {
  const c = card as { header?: { title?: { content?: string }; subtitle?: { content?: string } }; body?: { elements?: unknown[] } };
  const lines: string[] = [];
  const title = c.header?.title?.content;
  if (title) lines.push(`┏ ${title}${c.header?.subtitle?.content ? ` — ${c.header.subtitle.content}` : ''}`);
  for (const el of c.body?.elements ?? []) renderElement(el, lines, '┃ ');
  lines.push('┗' + '━'.repeat(20));
  return lines.join('\n');
}

function renderElement(el: unknown, out: string[], prefix: string): void {
  const e = el as Record<string, unknown>;
  switch (e.tag) {
    case 'markdown':
      for (const l of unescapeMd(String(e.content ?? '').replace(/\*\*(.+?)\*\*/g, '$1')).split('\n')) out.push(prefix + l);
      return;
    case 'div': {
      const t = (e.text as { content?: string } | undefined)?.content;
      if (t) for (const l of t.split('\n')) out.push(prefix + l);
      return;
    }
    case 'hr':
      out.push(prefix + '─'.repeat(20));
      return;
    case 'button': {
      const text = (e.text as { content?: string } | undefined)?.content ?? '';
      const behaviors = (e.behaviors as { type?: string; value?: unknown; default_url?: string }[] | undefined) ?? [];
      const url = behaviors.find((b) => b.type === 'open_url')?.default_url;
      out.push(prefix + `[${text}]${url ? ` ${url}` : ''}`);
      return;
    }
    case 'column_set': {
      const parts: string[] = [];
      for (const col of (e.columns as { elements?: unknown[] }[] | undefined) ?? []) {
        const sub: string[] = [];
        for (const x of col.elements ?? []) renderElement(x, sub, '');
        parts.push(sub.join(' '));
      }
      out.push(prefix + parts.join('  '));
      return;
    }
    case 'form': {
      out.push(prefix + `〔表单 ${String(e.name ?? '')}〕`);
      for (const x of (e.elements as unknown[] | undefined) ?? []) renderElement(x, out, prefix + '  ');
      return;
    }
    case 'input':
    case 'select_static':
    case 'date_picker': {
      const ph = (e.placeholder as { content?: string } | undefined)?.content ?? String(e.name ?? '');
      out.push(prefix + `<${ph}>`);
      return;
    }
    case 'img':
      out.push(prefix + '〔图片〕');
      return;
    default:
      out.push(prefix + `〔${String(e.tag)}〕`);
  }
}

function unescapeMd(s: string): string {
  return s.replace(/\\([\\`*_~[\]()<>#|])/g, '$1');
}

/** Text of one outbox message as a person would read it. */
export function renderMessageText(msgType: string, content: string): string {
  try {
    const c = JSON.parse(content) as Record<string, unknown>;
    if (msgType === 'text') return String(c.text ?? '');
    if (msgType === 'interactive') return renderCardText(c);
    if (msgType === 'image') return '〔图片〕';
    if (msgType === 'file') return '〔文件〕';
    return content;
  } catch {
    return content;
  }
}
