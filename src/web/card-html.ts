/**
 * Renders a Lark card (JSON 2.0) as HTML for the trial console — the HTML
 * twin of src/bot/card-text.ts. Everything from the card is text to be
 * escaped; the only markup produced is this file's own. The small subset of
 * Lark markdown our cards use is understood: **bold**, `code`, `> quote`
 * lines, <font color='…'>, [text](https://…) links and backslash escapes.
 *
 * Buttons keep their callback value in a data attribute (JSON, escaped);
 * the console's script sends it back through the card-action handler.
 * Form fields carry their `name`, so the script can collect `form_value`.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c]!);
}

const FONT_COLORS = new Set(['grey', 'gray', 'red', 'green', 'orange', 'blue', 'yellow', 'purple', 'carmine', 'violet', 'indigo', 'wathet', 'turquoise']);
const HEADER_TEMPLATES = new Set(['blue', 'wathet', 'turquoise', 'green', 'yellow', 'orange', 'red', 'carmine', 'violet', 'purple', 'indigo', 'grey']);

/** Inline markdown of one line → HTML; open tags are closed at the end of the line. */
function inlineMd(line: string): string {
  let out = '';
  const open: string[] = [];
  const close = (tag: string) => {
    const i = open.lastIndexOf(tag);
    if (i < 0) return false;
    while (open.length > i) out += `</${open.pop()!}>`;
    return true;
  };
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      out += escapeHtml(line[i + 1]);
      i += 2;
      continue;
    }
    if (line.startsWith('**', i)) {
      if (!close('strong')) {
        out += '<strong>';
        open.push('strong');
      }
      i += 2;
      continue;
    }
    if (c === '`') {
      const end = line.indexOf('`', i + 1);
      if (end > i) {
        out += `<code>${escapeHtml(line.slice(i + 1, end))}</code>`;
        i = end + 1;
        continue;
      }
    }
    if (c === '<') {
      const font = /^<font color=['"]?([a-z-]+)['"]?>/i.exec(line.slice(i));
      if (font) {
        const color = font[1]!.toLowerCase();
        out += `<span class="c-${FONT_COLORS.has(color) ? color : 'grey'}">`;
        open.push('span');
        i += font[0].length;
        continue;
      }
      if (line.startsWith('</font>', i)) {
        close('span');
        i += 7;
        continue;
      }
    }
    if (c === '[') {
      const link = /^\[([^\]\n]{1,200})\]\((https?:\/\/[^\s()<>"']{1,2000})\)/.exec(line.slice(i));
      if (link) {
        out += `<a href="${escapeHtml(link[2])}" target="_blank" rel="noopener noreferrer">${escapeHtml(link[1])}</a>`;
        i += link[0].length;
        continue;
      }
    }
    out += escapeHtml(c);
    i++;
  }
  while (open.length) out += `</${open.pop()!}>`;
  return out;
}

/** A markdown element: lines, with consecutive `> ` lines as one quote. */
export function markdownHtml(src: string): string {
  const lines = String(src).split('\n');
  const parts: string[] = [];
  let quote: string[] = [];
  const flush = () => {
    if (quote.length) parts.push(`<blockquote>${quote.join('<br>')}</blockquote>`);
    quote = [];
  };
  let plain: string[] = [];
  const flushPlain = () => {
    if (plain.length) parts.push(`<p>${plain.join('<br>')}</p>`);
    plain = [];
  };
  for (const l of lines) {
    const q = /^>\s?(.*)$/.exec(l);
    if (q) {
      flushPlain();
      quote.push(inlineMd(q[1]!));
    } else {
      flush();
      plain.push(inlineMd(l));
    }
  }
  flush();
  flushPlain();
  return parts.join('');
}

type El = Record<string, unknown>;
const textOf = (x: unknown): string => String((x as { content?: unknown } | undefined)?.content ?? '');

function attrJson(v: unknown): string {
  return escapeHtml(JSON.stringify(v ?? {}));
}

function renderElement(el: unknown, out: string[], inForm: string | null): void {
  const e = (el ?? {}) as El;
  switch (e.tag) {
    case 'markdown':
      out.push(`<div class="md">${markdownHtml(String(e.content ?? ''))}</div>`);
      return;
    case 'div':
      out.push(`<div class="md">${markdownHtml(textOf(e.text))}</div>`);
      return;
    case 'plain_text':
      out.push(`<div class="md"><p>${escapeHtml(e.content)}</p></div>`);
      return;
    case 'hr':
      out.push('<hr>');
      return;
    case 'button': {
      const text = escapeHtml(textOf(e.text));
      const kind = ['primary', 'danger', 'default', 'text'].includes(String(e.type)) ? String(e.type) : 'default';
      const behaviors = Array.isArray(e.behaviors) ? (e.behaviors as { type?: string; value?: unknown; default_url?: string }[]) : [];
      const url = behaviors.find((b) => b.type === 'open_url')?.default_url;
      const cb = behaviors.find((b) => b.type === 'callback');
      if (url && /^https?:\/\//i.test(url)) {
        out.push(`<a class="btn btn-${kind}" href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${text}</a>`);
      } else if (url && url.startsWith('/')) {
        out.push(`<a class="btn btn-${kind}" href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${text}</a>`);
      } else if (cb) {
        const submit = inForm !== null && e.form_action_type === 'submit';
        out.push(
          `<button type="button" class="btn btn-${kind}" data-action="${attrJson(cb.value)}"${submit ? ` data-submit="1"` : ''}>${text}</button>`,
        );
      } else {
        out.push(`<button type="button" class="btn btn-${kind}" disabled>${text}</button>`);
      }
      return;
    }
    case 'column_set': {
      const cols = Array.isArray(e.columns) ? (e.columns as { elements?: unknown[] }[]) : [];
      out.push('<div class="cols">');
      for (const col of cols) {
        out.push('<div class="col">');
        for (const x of col.elements ?? []) renderElement(x, out, inForm);
        out.push('</div>');
      }
      out.push('</div>');
      return;
    }
    case 'form': {
      out.push(`<div class="form" data-form="${escapeHtml(e.name)}">`);
      for (const x of Array.isArray(e.elements) ? e.elements : []) renderElement(x, out, String(e.name ?? ''));
      out.push('</div>');
      return;
    }
    case 'select_static': {
      const name = escapeHtml(e.name);
      const options = Array.isArray(e.options) ? (e.options as { text?: unknown; value?: unknown }[]) : [];
      const initial = e.initial_option === undefined ? undefined : String(e.initial_option);
      const ph = escapeHtml(textOf(e.placeholder) || String(e.name ?? ''));
      out.push(`<label class="field"><span>${ph}${e.required ? ' *' : ''}</span><select name="${name}" data-field="1"${e.required ? ' required' : ''}>`);
      out.push(`<option value="">${ph}</option>`);
      for (const o of options) {
        const v = String(o.value ?? '');
        out.push(`<option value="${escapeHtml(v)}"${v === initial ? ' selected' : ''}>${escapeHtml(textOf(o.text))}</option>`);
      }
      out.push('</select></label>');
      return;
    }
    case 'input': {
      const ph = escapeHtml(textOf(e.placeholder) || String(e.name ?? ''));
      const max = Number.isInteger(e.max_length) ? ` maxlength="${Number(e.max_length)}"` : '';
      out.push(`<label class="field"><span>${ph}${e.required ? ' *' : ''}</span><input type="text" name="${escapeHtml(e.name)}" data-field="1" placeholder="${ph}"${max}${e.required ? ' required' : ''}></label>`);
      return;
    }
    case 'date_picker': {
      const ph = escapeHtml(textOf(e.placeholder) || String(e.name ?? ''));
      out.push(`<label class="field"><span>${ph}${e.required ? ' *' : ''}</span><input type="date" name="${escapeHtml(e.name)}" data-field="1" data-date="1"${e.required ? ' required' : ''}></label>`);
      return;
    }
    case 'img':
      out.push(`<div class="img-ph">〔图片${e.alt ? `：${escapeHtml(textOf(e.alt))}` : ''}〕</div>`);
      return;
    default:
      out.push(`<div class="unknown">〔${escapeHtml(e.tag)}〕</div>`);
  }
}

/** A whole card as an HTML fragment (`<div class="card">…</div>`). */
export function renderCardHtml(card: unknown): string {
  const c = (card ?? {}) as { header?: { title?: unknown; subtitle?: unknown; template?: unknown }; body?: { elements?: unknown }; elements?: unknown };
  const out: string[] = ['<div class="card">'];
  const title = textOf(c.header?.title);
  if (title) {
    const tpl = HEADER_TEMPLATES.has(String(c.header?.template)) ? String(c.header?.template) : 'blue';
    const sub = textOf(c.header?.subtitle);
    out.push(`<div class="card-h t-${tpl}"><div class="card-title">${escapeHtml(title)}</div>${sub ? `<div class="card-sub">${escapeHtml(sub)}</div>` : ''}</div>`);
  }
  out.push('<div class="card-b">');
  // JSON 2.0 keeps elements under body; 1.0 cards have them at the top level.
  const elements = Array.isArray(c.body?.elements) ? c.body.elements : Array.isArray(c.elements) ? c.elements : [];
  for (const el of elements as unknown[]) renderElement(el, out, null);
  out.push('</div></div>');
  return out.join('');
}

/** One outbox message as HTML: text, card, or a placeholder for images and files. */
export function renderMessageHtml(msgType: string, content: string): string {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(content) as Record<string, unknown>;
  } catch {
    return `<div class="text">${escapeHtml(content)}</div>`;
  }
  if (msgType === 'text') return `<div class="text">${escapeHtml(c.text).replace(/\n/g, '<br>')}</div>`;
  if (msgType === 'interactive') return renderCardHtml(c);
  if (msgType === 'image') return '<div class="img-ph">〔图片〕</div>';
  if (msgType === 'file') return '<div class="img-ph">〔文件〕</div>';
  return `<div class="text">${escapeHtml(content)}</div>`;
}
