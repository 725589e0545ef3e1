/**
 * HTML → text without a DOM: policy pages are simple, and a tag stripper that keeps
 * block boundaries as line breaks is all the chunker needs. Navigation, scripts and
 * styles are dropped, and so is everything a browser would not show (dropHiddenHtml).
 */
const ENTITIES: Record<string, string> = {
  nbsp: ' ',
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  ldquo: '“',
  rdquo: '”',
  lsquo: '‘',
  rsquo: '’',
  mdash: '—',
  hellip: '…',
  middot: '·',
  ensp: ' ',
  emsp: ' ',
};

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(cp) && cp > 0 && cp < 0x110000 ? String.fromCodePoint(cp) : '';
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

export function htmlTitle(html: string): string | undefined {
  const m = /<title[^<>]*>([\s\S]{0,2000}?)<\/title>/i.exec(html);
  const t = m ? decodeEntities(m[1]!.replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim() : '';
  return t || undefined;
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
/** Elements whose end tag may be left out: a hidden one also ends where the next one of its kind begins. */
const OPTIONAL_END = new Set(['p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option']);
const HIDING_STYLE = /(?:^|[;{\s])(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|!|$))/i;
const HIDDEN_ATTR = /(?:^|\s)hidden(?=\s*(?:=|\/|$)|\s)/i;
const ARIA_HIDDEN = /(?:^|\s)aria-hidden\s*=\s*["']?true/i;
const attr = (attrs: string, name: string) =>
  new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs)?.slice(1).find((v) => v !== undefined);

/** Class and id selectors that a page's own <style> hides (`.hide{display:none}`). */
function hiddenSelectors(html: string): { classes: Set<string>; ids: Set<string> } {
  const classes = new Set<string>();
  const ids = new Set<string>();
  for (const block of html.matchAll(/<style\b[^<>]*>([\s\S]*?)(?:<\/style\s*>|$)/gi)) {
    for (const rule of block[1]!.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
      if (!HIDING_STYLE.test(rule[2]!)) continue;
      for (const sel of rule[1]!.split(',')) {
        const t = sel.trim();
        const m = /^(?:[a-z]+)?([.#])([\w-]+)$/i.exec(t);
        if (m) (m[1] === '.' ? classes : ids).add(m[2]!);
      }
    }
  }
  return { classes, ids };
}

/**
 * Removes what a reader of the page never sees, so it is neither indexed nor cited:
 * comments, script/style/template/noscript, and any element hidden by the hidden
 * attribute, aria-hidden="true", an inline style (display:none, visibility:hidden,
 * font-size:0) or a class/id the page's own stylesheet hides.
 */
export function dropHiddenHtml(html: string): string {
  const sel = hiddenSelectors(html);
  const src = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, '')
    .replace(/<(script|style|template|noscript)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ');
  const isHidden = (attrs: string) => {
    if (HIDDEN_ATTR.test(attrs.replace(/(["'])[\s\S]*?\1/g, '""')) || ARIA_HIDDEN.test(attrs)) return true;
    const style = attr(attrs, 'style');
    if (style && HIDING_STYLE.test(style)) return true;
    const cls = attr(attrs, 'class');
    if (cls && cls.split(/\s+/).some((c) => sel.classes.has(c))) return true;
    const id = attr(attrs, 'id');
    return id !== undefined && sel.ids.has(id);
  };
  const out: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)([^<>]*)>/g;
  let last = 0;
  for (let m; (m = tag.exec(src)); ) {
    const [whole, close, rawName, attrs] = m as unknown as [string, string, string, string];
    const name = rawName.toLowerCase();
    if (close || VOID.has(name) || attrs.trimEnd().endsWith('/') || !isHidden(attrs)) continue;
    // A hidden element: skip to its end tag, counting nested elements of the same name.
    out.push(src.slice(last, m.index), '\n');
    const inner = new RegExp(`<(\\/?)${name}\\b[^<>]*>`, 'gi');
    inner.lastIndex = m.index + whole.length;
    let depth = 1;
    let end = src.length;
    for (let n; (n = inner.exec(src)); ) {
      if (n[1]) depth--;
      else if (OPTIONAL_END.has(name) && depth === 1) {
        end = n.index;
        break;
      } else depth++;
      if (depth === 0) {
        end = n.index + n[0].length;
        break;
      }
    }
    last = end;
    tag.lastIndex = end;
  }
  out.push(src.slice(last));
  return out.join('');
}

/**
 * Removes whole elements (start tag to end tag) in one pass. A regex per element
 * (`<nav[\s\S]*?</nav>`) rescans to the end of the page for every start tag that has no end
 * tag, which a page of unclosed tags turns quadratic (200 KB: 38 s); here each end tag
 * is found once. A start tag without an end tag is left (its text stays, as before).
 */
function removeElements(html: string, names: string[]): string {
  const closes = new Map<string, [number, number][]>();
  for (const m of html.matchAll(new RegExp(`</(${names.join('|')})\\s*>`, 'gi'))) {
    const k = m[1]!.toLowerCase();
    if (!closes.has(k)) closes.set(k, []);
    closes.get(k)!.push([m.index, m.index + m[0].length]);
  }
  const next = new Map<string, number>();
  const out: string[] = [];
  let last = 0;
  const open = new RegExp(`<(${names.join('|')})\\b[^<>]*>`, 'gi');
  for (let m; (m = open.exec(html)); ) {
    const k = m[1]!.toLowerCase();
    const list = closes.get(k) ?? [];
    let i = next.get(k) ?? 0;
    while (i < list.length && list[i]![0] < m.index) i++;
    next.set(k, i);
    if (i >= list.length) continue;
    out.push(html.slice(last, m.index), '\n');
    last = list[i]![1];
    open.lastIndex = last;
  }
  out.push(html.slice(last));
  return out.join('');
}

const DROPPED = ['script', 'style', 'noscript', 'template', 'nav', 'header', 'footer', 'iframe', 'svg', 'form', 'select', 'button', 'head'];

export function htmlToText(html: string): string {
  return decodeEntities(
    removeElements(dropHiddenHtml(html), DROPPED)
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/?(p|div|section|article|h[1-6]|li|ul|ol|tr|table|blockquote|pre|dd|dt|dl)\b[^<>]*>/gi, '\n')
      .replace(/<\/(td|th)>/gi, ' ')
      .replace(/<[^<>]+>/g, ''),
  )
    .split('\n')
    .map((l) => l.replace(/[ \t\u00A0]+/g, ' ').trim())
    .filter((l) => l.length > 0)
    .join('\n');
}
