// 换届助手 trial console. Plain browser JavaScript, no build step.
// Message HTML comes from the server's card renderer (src/web/card-html.ts),
// which escapes every value; everything this script adds itself is textContent.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var state = { people: [], me: null, last: 0, seen: new Set(), busy: false, demo: false, dashboard: false };
  var STORE_KEY = 'huanjie-console-person';

  function api(method, path, body) {
    var init = { method: method, headers: {} };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) {
          var err = new Error(j.message || ('请求失败（' + r.status + '）'));
          err.status = r.status;
          throw err;
        }
        return j;
      });
    });
  }

  var toastTimer = null;
  function toast(text, type) {
    var t = $('toast');
    t.textContent = text;
    t.className = 'toast' + (type ? ' t-' + type : '');
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 3500);
  }

  function scrollDown() {
    window.scrollTo(0, document.body.scrollHeight);
  }

  function addMine(text) {
    var d = document.createElement('div');
    d.className = 'msg me';
    d.textContent = text;
    $('chat').appendChild(d);
    scrollDown();
  }

  function addNote(text) {
    var d = document.createElement('div');
    d.className = 'msg note';
    d.textContent = text;
    $('chat').appendChild(d);
  }

  function addMessages(list) {
    (list || []).forEach(function (m) {
      if (m.id !== undefined && typeof m.id === 'number') {
        if (state.seen.has(m.id)) return;
        state.seen.add(m.id);
      }
      var d = document.createElement('div');
      d.className = 'msg bot';
      d.setAttribute('data-kind', String(m.kind || ''));
      d.innerHTML = m.html; // escaped by the server
      $('chat').appendChild(d);
    });
    if (list && list.length) scrollDown();
  }

  function take(res) {
    if (typeof res.last === 'number' && res.last > state.last) state.last = res.last;
    addMessages(res.messages);
  }

  function chip(label, onClick, strong) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip' + (strong ? ' chip-strong' : '');
    b.textContent = label;
    b.addEventListener('click', onClick);
    $('tools').appendChild(b);
  }

  function sendText(text) {
    if (!state.me || state.busy) return;
    text = text.trim();
    if (!text) return;
    state.busy = true;
    $('send').disabled = true;
    addMine(text);
    api('POST', '/console/api/send', { openId: state.me.openId, text: text, after: state.last })
      .then(take)
      .catch(function (e) { toast(e.message, 'error'); })
      .then(function () { state.busy = false; $('send').disabled = false; });
  }

  function renderTools() {
    var tools = $('tools');
    tools.textContent = '';
    var me = state.me;
    if (!me) return;
    chip('帮助', function () { sendText('帮助'); });
    chip('选民名单要提前多少天公布？', function () { sendText('选民名单要提前多少天公布？'); });
    if (me.role) {
      chip('我的', function () { sendText('我的'); });
      chip('进度', function () { sendText(me.villages.length ? '进度 ' + me.villages[0] : '进度'); });
      chip('今日提醒（预演）', showReminders, true);
    }
    if (me.leader) {
      chip('日报', function () { sendText('日报'); });
      if (state.dashboard) chip('领导看板', openDashboard, true);
      // The console cannot receive Lark file messages: 导出 is a download of the same workbook.
      chip('下载进度表', downloadExport, true);
    }
  }

  function downloadExport() {
    fetch('/console/api/export?as=' + encodeURIComponent(state.me.openId), { credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) return r.json().then(function (j) { throw new Error(j.message || '导出失败'); });
        var m = /filename\*=UTF-8''([^;]+)/.exec(r.headers.get('content-disposition') || '');
        return r.blob().then(function (blob) {
          var a = document.createElement('a');
          a.href = URL.createObjectURL(blob);
          a.download = m ? decodeURIComponent(m[1]) : '进度表.xlsx';
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
        });
      })
      .catch(function (e) { toast(e.message, 'error'); });
  }

  function renderPersona() {
    var me = state.me;
    var p = $('persona');
    if (!me) { p.textContent = ''; return; }
    var parts = [me.name + (me.role ? '（' + me.role + '）' : '')];
    if (me.scope) parts.push(me.scope);
    if (me.villages.length) parts.push('负责：' + me.villages.join('、'));
    p.textContent = '当前身份：' + parts.join(' · ');
  }

  function showReminders() {
    api('GET', '/console/api/reminders?openId=' + encodeURIComponent(state.me.openId))
      .then(function (r) {
        addNote('今日提醒预演（每天 ' + r.time + ' 发送）');
        if (!r.messages.length) addNote('今天没有需要提醒您的事项。');
        addMessages(r.messages);
      })
      .catch(function (e) { toast(e.message, 'error'); });
  }

  function openDashboard() {
    api('GET', '/console/api/dashboard-link?openId=' + encodeURIComponent(state.me.openId))
      .then(function (r) { window.open(r.url, '_blank', 'noopener'); })
      .catch(function (e) { toast(e.message, 'error'); });
  }

  function collectForm(formEl) {
    var values = {};
    var missing = null;
    formEl.querySelectorAll('[data-field]').forEach(function (f) {
      var v = f.value;
      if (f.getAttribute('data-date') && v) v = v + ' +0800';
      if (v !== '') values[f.name] = v;
      else if (f.required && !missing) {
        var label = f.closest('label');
        missing = label ? label.querySelector('span').textContent.replace(/\s*\*$/, '') : f.name;
      }
    });
    return { values: values, missing: missing };
  }

  function press(btn) {
    if (state.busy) return;
    var value;
    try { value = JSON.parse(btn.getAttribute('data-action')); } catch (e) { return; }
    var body = { openId: state.me.openId, value: value, after: state.last };
    if (btn.getAttribute('data-submit')) {
      var form = btn.closest('.form');
      if (form) {
        var c = collectForm(form);
        if (c.missing) { toast('请填写：' + c.missing, 'warning'); return; }
        body.formValue = c.values;
      }
    }
    state.busy = true;
    btn.disabled = true;
    var holder = btn.closest('.msg');
    api('POST', '/console/api/press', body)
      .then(function (r) {
        if (r.toast) toast(r.toast.content, r.toast.type);
        if (r.card && holder) holder.innerHTML = r.card; // escaped by the server
        take(r);
      })
      .catch(function (e) { toast(e.message, 'error'); })
      .then(function () { state.busy = false; btn.disabled = false; });
  }

  function choose(openId) {
    var me = state.people.find(function (p) { return p.openId === openId; }) || state.people[0];
    state.me = me;
    try { localStorage.setItem(STORE_KEY, me.openId); } catch (e) { /* private mode */ }
    $('person').value = me.openId;
    $('chat').textContent = '';
    state.seen = new Set();
    renderPersona();
    renderTools();
    addNote('以「' + me.name + '」的身份对话。输入政策问题或命令（例如「帮助」）。');
    api('GET', '/console/api/messages?openId=' + encodeURIComponent(me.openId) + '&after=0').then(take).catch(function () {});
  }

  function poll() {
    if (!state.me || state.busy || document.hidden) return;
    api('GET', '/console/api/messages?openId=' + encodeURIComponent(state.me.openId) + '&after=' + state.last).then(take).catch(function () {});
  }

  function init() {
    api('GET', '/console/api/state').then(function (s) {
      state.people = s.people;
      state.last = s.last;
      state.demo = s.demo;
      state.dashboard = s.dashboard;
      $('demo-banner').hidden = !s.demo;
      var sel = $('person');
      var groups = {};
      s.people.forEach(function (p) {
        var g = p.role || '其他';
        if (!groups[g]) {
          groups[g] = document.createElement('optgroup');
          groups[g].label = g;
          sel.appendChild(groups[g]);
        }
        var o = document.createElement('option');
        o.value = p.openId;
        o.textContent = p.name + (p.scope ? ' · ' + p.scope : '') + (p.villages.length ? ' · ' + p.villages.slice(0, 2).join('、') + (p.villages.length > 2 ? '等' : '') : '');
        groups[g].appendChild(o);
      });
      var wanted = new URLSearchParams(location.search).get('as');
      var stored = null;
      try { stored = localStorage.getItem(STORE_KEY); } catch (e) { /* private mode */ }
      var first = s.people.find(function (p) { return p.role === '干部'; }) || s.people[0];
      var pick = [wanted, stored].find(function (id) { return id && s.people.some(function (p) { return p.openId === id; }); }) || (first && first.openId);
      choose(pick);
      sel.addEventListener('change', function () { choose(sel.value); });
      setInterval(poll, 5000);
    }).catch(function (e) { toast(e.message, 'error'); });

    $('composer').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var input = $('text');
      var text = input.value;
      input.value = '';
      sendText(text);
    });
    $('chat').addEventListener('click', function (ev) {
      var btn = ev.target.closest('button[data-action]');
      if (btn) { ev.preventDefault(); press(btn); }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
