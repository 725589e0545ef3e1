// 换届工作看板. Plain browser JavaScript, no build step. Every value from the
// server is put in the page as text (textContent), never as HTML. The chart
// options come ready from the server (the same builders as the digest image).
/* global echarts */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  var token = params.get('t') || '';
  var charts = [];
  var FONT = getComputedStyle(document.documentElement).fontFamily || 'sans-serif';

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function pct(x) { return (Math.round(x * 1000) / 10) + '%'; }
  function clear(id) { var n = $(id); n.textContent = ''; return n; }

  function table(container, head, rows, numeric) {
    if (!rows.length) { container.appendChild(el('div', '无', 'empty')); return; }
    var t = el('table');
    var tr = el('tr');
    head.forEach(function (h, i) { tr.appendChild(el('th', h, numeric && numeric.indexOf(i) >= 0 ? 'num' : '')); });
    var thead = el('thead'); thead.appendChild(tr); t.appendChild(thead);
    var tb = el('tbody');
    rows.forEach(function (r) {
      var row = el('tr');
      r.forEach(function (c, i) {
        var td = el('td', null, numeric && numeric.indexOf(i) >= 0 ? 'num' : '');
        if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? '' : String(c);
        row.appendChild(td);
      });
      tb.appendChild(row);
    });
    t.appendChild(tb);
    container.appendChild(t);
  }

  function tile(k, v, cls) {
    var d = el('div', null, 'tile' + (cls ? ' ' + cls : ''));
    d.appendChild(el('div', v, 'v'));
    d.appendChild(el('div', k, 'k'));
    $('tiles').appendChild(d);
  }

  // The options are the digest image's (800 px wide). In the page, the category labels get the room they
  // need (measured, where ECharts' containLabel only samples a few), and on a phone the legend scrolls.
  var measureCtx = document.createElement('canvas').getContext('2d');
  function textWidth(text, size) {
    measureCtx.font = size + 'px ' + FONT;
    return measureCtx.measureText(String(text)).width;
  }
  function fitLayout(option, width) {
    var o = JSON.parse(JSON.stringify(option));
    var each = function (x, f) { if (Array.isArray(x)) x.forEach(f); else if (x) f(x); };
    var narrow = width && width < 640;
    if (narrow) {
      each(o.title, function (t) { t.textStyle = Object.assign({}, t.textStyle, { fontSize: 14 }); });
      each(o.legend, function (l) { l.type = 'scroll'; l.top = 34; l.left = 8; l.right = 8; });
    }
    if (!Array.isArray(o.grid) && o.grid && !Array.isArray(o.yAxis) && o.yAxis && o.yAxis.type === 'category') {
      var size = (o.yAxis.axisLabel && o.yAxis.axisLabel.fontSize) || 12;
      var max = (o.yAxis.data || []).reduce(function (m, l) { return Math.max(m, textWidth(l, size)); }, 0);
      var room = Math.ceil(Math.min(max + 6, (width || 800) * 0.45));
      o.yAxis.axisLabel = Object.assign({}, o.yAxis.axisLabel, { width: room, overflow: 'truncate' });
      o.grid.left = (typeof o.grid.left === 'number' ? o.grid.left : 8) + room + 10;
      // The value axis' labels below the grid were inside containLabel's room too.
      if (o.grid.containLabel) o.grid.bottom = (typeof o.grid.bottom === 'number' ? o.grid.bottom : 8) + 24;
      o.grid.containLabel = false;
      o.grid.outerBoundsMode = 'none';
      if (narrow && typeof o.grid.top === 'number') o.grid.top = Math.max(o.grid.top, 66);
    }
    return o;
  }

  function chart(id, option) {
    var node = $(id);
    if (!option || typeof echarts === 'undefined') return;
    var c = echarts.init(node, null, { renderer: 'canvas' });
    var o = fitLayout(option, node.clientWidth);
    o.textStyle = Object.assign({ fontFamily: FONT }, o.textStyle);
    c.setOption(o);
    c.on('finished', function () {
      node.setAttribute('data-finished', '1');
      if (charts.every(function (x) { return x.getDom().getAttribute('data-finished'); })) document.body.setAttribute('data-drawn', '1');
    });
    charts.push(c);
  }

  function names(list) {
    return (list || []).map(function (p) { return typeof p === 'string' ? p : p.name; }).join('、') || '未分配';
  }

  function place(d, township, village) {
    return d.scope.kind === 'township' && !d.filter ? village : township + village;
  }

  function render(d) {
    document.body.removeAttribute('data-drawn');
    charts.forEach(function (c) { c.getDom().removeAttribute('data-finished'); c.dispose(); });
    charts = [];
    var scopeName = d.filter ? d.scope.name + ' › ' + d.filter.name : d.scope.name;
    $('scope-line').textContent = scopeName + ' · ' + d.date + ' ' + d.weekday + ' · ' + d.leader.name;
    document.title = '换届工作看板 · ' + scopeName;

    clear('tiles');
    var s = d.summary;
    tile('必经阶段完成率', pct(s.rate), s.rate >= 0.8 ? 'good' : '');
    tile('已完成 / 应完成阶段', s.done + ' / ' + s.total);
    tile('村(社区)', s.villages + (s.townships > 1 ? '（' + s.townships + ' 个乡镇）' : ''));
    tile('全部完成的村(社区)', s.villagesAllDone);
    tile('逾期事项', s.overdue + '（' + s.overdueVillages + ' 个村）', s.overdue ? 'bad' : 'good');
    tile('3天内到期', s.dueSoon);
    tile('谈话 已谈 / 计划', s.talksHeld + ' / ' + s.talksTotal + (s.talksOverdue ? '（逾期' + s.talksOverdue + '）' : ''), s.talksOverdue ? 'bad' : '');
    tile('未结风险（必查）', s.risksOpen + '（' + s.mustCheck + '）', s.mustCheck ? 'bad' : '');


    table(clear('overdue'), ['村(社区)', '逾期阶段', '责任人'], d.overdue.villages.map(function (v) {
      return [place(d, v.township, v.village), v.stages.map(function (x) { return x.name + '（逾期' + x.days + '天）'; }).join('、'), names(v.responsible)];
    }));
    table(clear('overdue-people'), ['责任人', '角色', '逾期事项', '村(社区)'], d.overdue.byPerson.map(function (p) {
      return [p.name, p.role, p.items, p.villages.join('、')];
    }), [2]);
    var talks = clear('talks');
    table(talks, ['谈话类别', '计划', '已谈', '逾期', '完成率'], d.talks.byCategory.filter(function (c) { return c.total > 0; }).map(function (c) {
      return [c.category, c.total, c.held, c.overdue, pct(c.rate)];
    }), [1, 2, 3, 4]);
    if (d.talks.overdueList.length) {
      talks.appendChild(el('h2', '逾期未谈'));
      table(talks, ['谈话', '地点', '截止', '谈话人'], d.talks.overdueList.map(function (t) {
        return [t.category + '：' + t.subject, t.place, t.due + '（逾期' + t.days + '天）', t.interviewers.join('、')];
      }));
    }
    var st = clear('structure');
    st.appendChild(el('div', '已选举 ' + d.structure.elected + ' 个，已报送结构 ' + d.structure.reported + ' 个', 'empty'));
    if (d.structure.missing.length) {
      st.appendChild(el('h2', '已选举未报送结构'));
      table(st, ['村(社区)', '责任人'], d.structure.missing.map(function (m) { return [place(d, m.township, m.village), m.responsible.join('、')]; }));
    }
    if (d.structure.unmet.length) {
      st.appendChild(el('h2', '结构未达标'));
      table(st, ['村(社区)', '未达标项'], d.structure.unmet.map(function (m) { return [place(d, m.township, m.village), m.unmet.join('、')]; }));
    }
    table(clear('due-soon'), ['事项', '村(社区)', '截止', '负责人'], d.dueSoon.map(function (i) {
      return [i.what, place(d, i.township, i.village), i.deadline + (i.daysLeft ? '（' + i.daysLeft + '天后）' : '（今天）'), i.responsible.join('、')];
    }));
    table(clear('not-reported'), ['村(社区)', '最近登记', '待办', '责任人'], d.notReported.map(function (v) {
      return [place(d, v.township, v.village), v.lastActivityDate || '从未', v.openItems, names(v.responsible)];
    }), [2]);
    table(clear('risks'), ['村(社区)', '类别', '程度', '情况', '跟进'], d.risks.map(function (r) {
      var cat = el('span', r.category);
      if (r.mustCheck) { var tag = el('span', '必查', 'tag'); var w = el('span'); w.appendChild(tag); w.appendChild(cat); cat = w; }
      return [place(d, r.township, r.village), cat, r.severity, r.description, r.followups + ' 次'];
    }));

    var sel = $('township');
    if (d.townships.length && !sel.options.length) {
      var all = el('option', '全部（' + d.scope.name + '）'); all.value = ''; sel.appendChild(all);
      d.townships.forEach(function (t) { var o = el('option', t.name); o.value = String(t.id); sel.appendChild(o); });
      sel.value = d.filter ? String(d.filter.id) : '';
      $('filter').hidden = false;
    }
    // Charts are drawn on canvas: wait until the page's text has its font (the bundled CJK font where none is installed).
    void document.body.offsetHeight;
    var fontsReady = document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve();
    var timeout = new Promise(function (r) { setTimeout(r, 4000); });
    Promise.race([fontsReady, timeout]).then(function () { drawCharts(d); });
    $('foot').textContent = '数据截至 ' + new Date(d.generatedAt).toLocaleString('zh-CN', { hour12: false }) + ' · 与日报同源' + (d.demo ? ' · 演示数据' : '');
  }

  function drawCharts(d) {
    $('chart-stages').style.height = Math.max(300, 90 + d.byStage.filter(function (x) { return x.total > 0; }).length * 26) + 'px';
    chart('chart-stages', d.charts.stages);
    chart('chart-trend', d.charts.trend);
    $('panel-ranking').hidden = !d.charts.ranking;
    if (d.charts.ranking) {
      $('chart-ranking').style.height = Math.max(200, 60 + d.ranking.rows.length * 28) + 'px';
      chart('chart-ranking', d.charts.ranking);
    }
    chart('chart-talks', d.charts.talks);
    chart('chart-structure', d.charts.structure);
    document.body.setAttribute('data-charts', String(charts.length));
  }

  function load(township) {
    var q = '?t=' + encodeURIComponent(token) + (township ? '&township=' + encodeURIComponent(township) : '');
    fetch('/dashboard/api/data' + q, { headers: { accept: 'application/json' } })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (x) {
        if (!x.ok) {
          $('scope-line').textContent = x.j.message || '无法加载看板';
          $('dash').hidden = true;
          return;
        }
        render(x.j);
        document.body.setAttribute('data-loaded', '1');
      })
      .catch(function () { $('scope-line').textContent = '网络错误，请稍后刷新。'; });
  }

  function init() {
    $('township').addEventListener('change', function () { load($('township').value); });
    window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
    load(params.get('township') || '');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
