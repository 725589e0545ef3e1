/** A chunk as the chunkers produce it, before ids and neighbours are assigned. */
export interface ChunkDraft {
  /** What a citation shows: 第十五条, 第三项, or the heading path of a speech. */
  locator: string;
  /** Headings above the chunk, outermost first (第二章 选举 / 二、突出重点 …). */
  headingPath: string[];
  /** Sentence that introduces a list the chunk belongs to (有下列情形之一的，…：). */
  lead?: string;
  text: string;
  kind: 'preamble' | 'article' | 'item' | 'point' | 'paragraph';
  /** 1-based part number when an over-long unit was split; 0 when whole. */
  part: number;
}
