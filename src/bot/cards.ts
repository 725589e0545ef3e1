/** Small builders for Lark card JSON 2.0 (card-json-v2-structure). */
export type CardElement = Record<string, unknown>;
export type Card = {
  schema: '2.0';
  config: Record<string, unknown>;
  header?: Record<string, unknown>;
  body: { elements: CardElement[] };
};

export type HeaderTemplate = 'blue' | 'wathet' | 'turquoise' | 'green' | 'yellow' | 'orange' | 'red' | 'carmine' | 'violet' | 'purple' | 'indigo' | 'grey';

export function card(opts: { title: string; subtitle?: string; template?: HeaderTemplate; elements: CardElement[]; summary?: string }): Card {
  return {
    schema: '2.0',
    config: { update_multi: true, width_mode: 'fill', ...(opts.summary ? { summary: { content: opts.summary } } : {}) },
    header: {
      title: { tag: 'plain_text', content: opts.title },
      ...(opts.subtitle ? { subtitle: { tag: 'plain_text', content: opts.subtitle } } : {}),
      template: opts.template ?? 'blue',
    },
    body: { elements: opts.elements },
  };
}

export function md(content: string): CardElement {
  return { tag: 'markdown', content };
}

export function hr(): CardElement {
  return { tag: 'hr' };
}

export function button(
  text: string,
  value: Record<string, unknown>,
  type: 'default' | 'primary' | 'danger' | 'text' = 'default',
): CardElement {
  return { tag: 'button', text: { tag: 'plain_text', content: text }, type, behaviors: [{ type: 'callback', value }] };
}

export function linkButton(text: string, url: string): CardElement {
  return { tag: 'button', text: { tag: 'plain_text', content: text }, type: 'default', behaviors: [{ type: 'open_url', default_url: url }] };
}

/** Buttons side by side. */
export function buttonRow(buttons: CardElement[]): CardElement {
  return {
    tag: 'column_set',
    flex_mode: 'flow',
    columns: buttons.map((b) => ({ tag: 'column', width: 'auto', elements: [b] })),
  };
}

/** Escapes text that is shown inside a markdown element (user input must not become markup or links). */
export function escapeMd(s: string): string {
  return s.replace(/[\\`*_~[\]()<>#|]/g, (c) => '\\' + c);
}
