import { v5 as uuidv5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { messageUuid, UUID_NAMESPACE } from '../../src/bot/outbox.js';

describe('message uuid from the intent', () => {
  it('is the uuid v5 of the intent string: unchanged for valid intents, so rows written before still deduplicate', () => {
    for (const intent of ['reply:om_1', 'reminder:ou_abc:2026-11-10', '日报:ou_x:2026-11-23', '🎉']) expect(messageUuid(intent)).toBe(uuidv5(intent, UUID_NAMESPACE));
  });

  it('does not throw on a lone surrogate (an id from a hostile event), and stays stable', () => {
    expect(() => uuidv5('reply:\ud800', UUID_NAMESPACE)).toThrow();
    expect(messageUuid('reply:\ud800')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(messageUuid('reply:\ud800')).toBe(messageUuid('reply:\ud800'));
  });
});
