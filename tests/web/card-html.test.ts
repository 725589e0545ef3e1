import { describe, expect, it } from 'vitest';
import { button, buttonRow, card, escapeMd, hr, linkButton, md } from '../../src/bot/cards.js';
import { escapeHtml, markdownHtml, renderCardHtml, renderMessageHtml } from '../../src/web/card-html.js';

describe('cards as HTML', () => {
  it('escape everything that comes from the card', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;');
    const evil = '<img src=x onerror=alert(1)>';
    const html = renderCardHtml(card({ title: evil, subtitle: evil, elements: [md(evil), md(escapeMd(evil)), button(evil, { action: 'x', v: `"><script>` })] }));
    expect(html).not.toMatch(/<img|<script/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('data-action="{&quot;action&quot;:&quot;x&quot;,&quot;v&quot;:&quot;\\&quot;&gt;&lt;script&gt;&quot;}"');
  });

  it('understand the markdown our cards use, and nothing more', () => {
    expect(markdownHtml('**问题**：选民\\*名单')).toBe('<p><strong>问题</strong>：选民*名单</p>');
    expect(markdownHtml('依据\n> 第一行\n> 第二行\n结束')).toBe('<p>依据</p><blockquote>第一行<br>第二行</blockquote><p>结束</p>');
    expect(markdownHtml("<font color='grey'>以原文为准</font>")).toBe('<p><span class="c-grey">以原文为准</span></p>');
    // Anything but a plain colour name stays text.
    expect(markdownHtml("<font color='x\" onmouseover=alert(1)'>t</font>")).toBe('<p>&lt;font color=&#39;x&quot; onmouseover=alert(1)&#39;&gt;t</p>');
    expect(markdownHtml('发送 `完成 村名 阶段`')).toBe('<p>发送 <code>完成 村名 阶段</code></p>');
    expect(markdownHtml('[看板](https://hj.example.cn/dashboard?t=a&b=1)')).toBe('<p><a href="https://hj.example.cn/dashboard?t=a&amp;b=1" target="_blank" rel="noopener noreferrer">看板</a></p>');
    expect(markdownHtml('[x](javascript:alert(1))')).toBe('<p>[x](javascript:alert(1))</p>');
    // Unbalanced bold is closed at the end of the line.
    expect(markdownHtml('**未闭合')).toBe('<p><strong>未闭合</strong></p>');
  });

  it('render buttons with their callback value, link buttons only for http(s), and forms with named fields', () => {
    const html = renderCardHtml(
      card({
        title: '提醒',
        template: 'red',
        elements: [
          buttonRow([button('已完成', { action: 'reminder_done', item: 'stage:1:audit' }, 'primary'), linkButton('查看详情', 'https://hj.example.cn/dashboard?t=x'), linkButton('坏', 'javascript:alert(1)')]),
          hr(),
          {
            tag: 'form',
            name: 'checkin_form',
            elements: [
              { tag: 'select_static', name: 'village', required: true, placeholder: { content: '村(社区)' }, options: [{ text: { content: '城西村' }, value: '5' }], initial_option: '5' },
              { tag: 'date_picker', name: 'date', placeholder: { content: '完成日期' } },
              { tag: 'input', name: 'note', max_length: 500, placeholder: { content: '备注' } },
              { tag: 'button', name: 'submit', form_action_type: 'submit', type: 'primary', text: { content: '提交' }, behaviors: [{ type: 'callback', value: { action: 'checkin_submit' } }] },
            ],
          },
          { tag: 'img', img_key: 'img_v2_x' },
          { tag: 'chart' },
        ],
      }),
    );
    expect(html).toContain('<div class="card-h t-red"><div class="card-title">提醒</div></div>');
    expect(html).toContain('<button type="button" class="btn btn-primary" data-action="{&quot;action&quot;:&quot;reminder_done&quot;,&quot;item&quot;:&quot;stage:1:audit&quot;}">已完成</button>');
    expect(html).toContain('<a class="btn btn-default" href="https://hj.example.cn/dashboard?t=x" target="_blank" rel="noopener noreferrer">查看详情</a>');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('<div class="form" data-form="checkin_form">');
    expect(html).toContain('<select name="village" data-field="1" required>');
    expect(html).toContain('<option value="5" selected>城西村</option>');
    expect(html).toContain('<input type="date" name="date" data-field="1" data-date="1">');
    expect(html).toContain('maxlength="500"');
    expect(html).toContain('data-action="{&quot;action&quot;:&quot;checkin_submit&quot;}" data-submit="1">提交</button>');
    expect(html).toContain('〔图片〕');
    expect(html).toContain('〔chart〕');
  });

  it('render outbox messages by type', () => {
    expect(renderMessageHtml('text', JSON.stringify({ text: '第一行\n<b>第二行</b>' }))).toBe('<div class="text">第一行<br>&lt;b&gt;第二行&lt;/b&gt;</div>');
    expect(renderMessageHtml('image', JSON.stringify({ image_key: 'k' }))).toContain('〔图片〕');
    expect(renderMessageHtml('interactive', JSON.stringify(card({ title: 'T', elements: [] })))).toMatch(/^<div class="card">/);
    expect(renderMessageHtml('text', 'not json <x>')).toBe('<div class="text">not json &lt;x&gt;</div>');
  });
});
