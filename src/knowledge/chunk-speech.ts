import type { ChunkDraft } from './chunk-types.js';
import { dropTitleLines } from './chunk-legal.js';
import { CN_ORDINAL_HEADING, INLINE_POINT, PAREN_ORDINAL } from './structure.js';

/**
 * Speeches, reports and guides: 一、 and （一） headings (or short title-like lines in
 * news pieces) form the heading path; a paragraph that lists points (一是…二是…,
 * 一要…二要…) becomes one chunk per point; other paragraphs are chunks of their own.
 */
export function chunkSpeech(body: string, title: string): ChunkDraft[] {
  const lines = dropTitleLines(body.split('\n').map((l) => l.trim()).filter(Boolean), title);
  const out: ChunkDraft[] = [];
  let h1: string | undefined;
  let h2: string | undefined;
  const path = () => [h1, h2].filter((v): v is string => !!v);
  let para = 0;

  const emitParagraph = (text: string) => {
    para++;
    const pieces = text.split(INLINE_POINT).map((s) => s.trim()).filter(Boolean);
    const points = pieces.filter((p) => isPoint(p));
    if (points.length >= 2) {
      let intro = '';
      for (const p of pieces) {
        if (!isPoint(p)) {
          intro += p;
          continue;
        }
        out.push({
          locator: locatorOf(path(), pointLabel(p), para),
          headingPath: path(),
          lead: intro ? shortLead(intro) : undefined,
          text: p,
          kind: 'point',
          part: 0,
        });
      }
      // A paragraph's opening sentences before its first point stay searchable as their own chunk.
      if (intro && intro.length >= 40 && !isPoint(pieces[0]!)) {
        out.splice(out.length - points.length, 0, {
          locator: locatorOf(path(), undefined, para),
          headingPath: path(),
          text: pieces[0]!,
          kind: 'paragraph',
          part: 0,
        });
      }
      return;
    }
    out.push({ locator: locatorOf(path(), undefined, para), headingPath: path(), text, kind: 'paragraph', part: 0 });
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const c = CN_ORDINAL_HEADING.exec(line);
    if (c && isHeadingText(c[2]!)) {
      h1 = line;
      h2 = undefined;
      continue;
    }
    const p = PAREN_ORDINAL.exec(line);
    if (p) {
      if (isHeadingText(p[2]!)) {
        h2 = line;
        continue;
      }
      // "（一）heading sentence。body…" on one line: the first sentence is the heading.
      const m = /^([^。！？]{2,40}[。！？])(.+)$/.exec(line);
      if (m) {
        h2 = m[1]!.replace(/[。！？]$/, '');
        emitParagraph(m[2]!.trim());
        continue;
      }
    }
    const next = lines[i + 1];
    if (isNewsHeading(line, next)) {
      // News pieces use short unpunctuated lines as section titles; they lead the path.
      if (h1 && CN_ORDINAL_HEADING.test(h1)) h2 = line;
      else {
        h1 = line;
        h2 = undefined;
      }
      continue;
    }
    emitParagraph(line);
  }
  return out;
}

function isPoint(s: string): boolean {
  return /^(?:[一二三四五六七八九十]{1,2}(?:是|要)|首先|其次|再次|最后)/.test(s);
}

/** A heading: short, no sentence inside it. */
function isHeadingText(rest: string): boolean {
  const t = rest.trim();
  return t.length >= 2 && t.length <= 40 && !/[。！？；]/.test(t.slice(0, -1));
}

function isNewsHeading(line: string, next: string | undefined): boolean {
  return (
    line.length >= 4 &&
    line.length <= 32 &&
    !/[。！？；，：,;:]$/.test(line) &&
    !/[。！？：:]/.test(line) &&
    next !== undefined &&
    next.length > line.length * 2
  );
}

function pointLabel(p: string): string {
  const first = p.split(/[。；！？，,]/)[0] ?? p;
  return first.length > 18 ? first.slice(0, 18) + '…' : first;
}

function shortHeading(h: string): string {
  const t = h.replace(/[。！？]$/, '');
  return t.length > 22 ? t.slice(0, 22) + '…' : t;
}

function shortLead(s: string): string {
  const parts = s.split(/(?<=[。！？])/).filter((x) => x.trim());
  const last = (parts[parts.length - 1] ?? s).trim();
  return last.length > 60 ? last.slice(0, 60) + '…' : last;
}

function locatorOf(path: string[], label: string | undefined, para: number): string {
  const parts = path.map(shortHeading);
  if (label) parts.push(label);
  return parts.length ? parts.join(' › ') : `第${para}段`;
}
