/* Entente web UI: a single page over the node's local API (see /api/openapi.json).
 *
 * No dependencies and no build step. Every /api call carries the bearer token obtained once
 * with the one-time login code of the address `entente up` printed; live updates come from
 * /api/events (server-sent events read with fetch, since EventSource cannot send headers).
 * Everything shown is built with DOM calls and textContent: nothing from the network is ever
 * parsed as HTML. */
'use strict';

(() => {
  // ---------------------------------------------------------------------------------------------
  // Constants

  const TOKEN_KEY = 'entente.token';
  const LANG_KEY = 'entente.uiLanguage';
  const UI_LANGS = ['en', 'fr', 'ar'];
  const TABS = ['text', 'amend', 'positions', 'channels', 'members', 'silence'];
  const STANCES = ['support', 'can-live-with', 'object', 'reserve'];
  const STATUSES = ['unread', 'discussed', 'bracketed', 'agreed-ad-referendum', 'agreed', 'adopted'];
  const OPS = ['replace', 'insert-after', 'delete'];
  const MARKS = ['discussed', 'agreed', 'ad-referendum', 'confirmed', 'withdrawn'];
  const STATEMENT_KINDS = ['general', 'explanation-of-position', 'reservation', 'interpretative'];
  const ROLES = ['delegation', 'observer', 'mediator', 'chair'];
  const SIGN_FORMS = ['signature', 'initials', 'ad-referendum'];
  const GROUNDS = ['objection', 'amendment'];
  const PERIOD_UNITS = { minutes: 60, hours: 3600, days: 86400 };
  // Writing direction of a text from its BCP 47 tag (the same lists as the node's views).
  const RTL_LANGS = new Set(['ar', 'he', 'iw', 'fa', 'ur', 'ps', 'prs', 'sd', 'ckb', 'ug', 'dv', 'yi']);
  const RTL_SCRIPTS = new Set(['arab', 'hebr', 'syrc', 'thaa', 'nkoo', 'adlm', 'rohg']);
  const REFRESH_DELAY_MS = 200;
  // Event kinds (public, unsealed) that change who is in a negotiation or its charter.
  const MEMBERSHIP_KINDS = new Set(['charter', 'accredit', 'join', 'role', 'remove', 'leave', 'revoke']);

  const t = (key, vars) => window.t(key, vars);

  function isRtl(tag) {
    if (!tag) return false;
    const sub = String(tag).toLowerCase().split(/[-_]/);
    const script = sub.slice(1).find((s) => /^[a-z]{4}$/.test(s));
    return script ? RTL_SCRIPTS.has(script) : RTL_LANGS.has(sub[0]);
  }
  const dirOf = (tag) => (isRtl(tag) ? 'rtl' : 'ltr');

  // ---------------------------------------------------------------------------------------------
  // State

  const S = {
    token: sessionStorage.getItem(TOKEN_KEY),
    lang: 'en',
    me: null,
    negs: [],
    N: null, // the negotiation on screen
    home: null, // the negotiations screen's elements
    live: null, // the event stream's AbortController
    liveUp: false,
    negsTimer: 0,
  };
  let uid = 0;
  let generation = 0;
  const nextId = (prefix) => `${prefix}-${++uid}`;

  // ---------------------------------------------------------------------------------------------
  // DOM helpers

  const $ = (sel, root = document) => root.querySelector(sel);

  /** An element: props are attributes, except class, text, on (listeners), testid and a few
   * properties; children are nodes or strings (null and false are skipped). */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k === 'testid') node.dataset.testid = v;
        else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
        else if (['checked', 'disabled', 'hidden', 'required', 'multiple', 'open'].includes(k)) node[k] = true;
        else if (k === 'value') node.value = v;
        else node.setAttribute(k, v === true ? '' : String(v));
      }
    }
    return append(node, children);
  }

  function append(node, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function replaceWith(node, ...children) {
    node.replaceChildren();
    return append(node, children);
  }

  /** Text with `code` spans, as the translations write commands. */
  function rich(text) {
    return String(text)
      .split('`')
      .map((part, i) => (i % 2 ? el('code', { dir: 'ltr' }, part) : part));
  }

  /** A labelled control, with an optional hint read out with it. */
  function field(label, control, hint) {
    if (!control.id) control.id = nextId('f');
    let hintEl = null;
    if (hint) {
      hintEl = el('p', { class: 'hint', id: nextId('h') }, rich(hint));
      control.setAttribute('aria-describedby', hintEl.id);
    }
    return el('div', { class: 'field' }, el('label', { for: control.id }, label), control, hintEl);
  }

  function checkField(label, input) {
    if (!input.id) input.id = nextId('c');
    return el('div', { class: 'check' }, input, el('label', { for: input.id }, label));
  }

  /** Fills a select (only when its options changed, so an open list is not disturbed) and selects
   * `want` if it is there, else the current value, else the first option. */
  function fillSelect(sel, options, want) {
    const sig = JSON.stringify(options);
    const prefer = want ?? sel.value;
    if (sel._sig !== sig) {
      sel.replaceChildren(
        ...options.map((o) =>
          el('option', { value: o.value, lang: o.lang, dir: o.dir }, o.label),
        ),
      );
      sel._sig = sig;
    }
    if (options.some((o) => o.value === prefer)) sel.value = prefer;
    else if (options.length && !options.some((o) => o.value === sel.value)) sel.value = options[0].value;
    return sel.value;
  }

  const rendered = new WeakMap();

  /** Replaces a container's content, unless what it shows (`key`) did not change; keeps the focus
   * and what was typed in controls marked with data-fkey. */
  function renderInto(container, key, build) {
    if (key !== undefined && rendered.get(container) === key) return false;
    const active = document.activeElement;
    const focusKey = active && container.contains(active) ? active.dataset.fkey : undefined;
    const typed = {};
    for (const c of container.querySelectorAll('input[data-fkey], textarea[data-fkey], select[data-fkey]')) {
      if (c.type !== 'checkbox' && c.value) typed[c.dataset.fkey] = c.value;
    }
    container.replaceChildren(...[build()].flat(Infinity).filter((x) => x !== null && x !== undefined && x !== false));
    rendered.set(container, key);
    for (const [k, v] of Object.entries(typed)) {
      const c = container.querySelector(`[data-fkey="${CSS.escape(k)}"]`);
      if (c && c.tagName !== 'BUTTON') c.value = v;
    }
    if (focusKey) {
      const again = container.querySelector(`[data-fkey="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    }
    return true;
  }

  const intlLocale = () => (S.lang === 'ar' ? 'ar-u-nu-latn' : S.lang);

  function fmtTime(ms) {
    if (!ms && ms !== 0) return '';
    try {
      return new Intl.DateTimeFormat(intlLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
    } catch {
      return new Date(ms).toISOString();
    }
  }

  function timeEl(ms, utc) {
    const iso = utc || (ms ? new Date(ms).toISOString() : '');
    return el('time', { datetime: iso, title: iso }, fmtTime(ms));
  }

  function langName(tag) {
    try {
      const name = new Intl.DisplayNames([intlLocale()], { type: 'language' }).of(tag);
      return name && name !== tag ? `${name} (${tag})` : tag;
    } catch {
      return tag;
    }
  }

  const short = (id) => String(id || '').slice(0, 8);
  const truncate = (s, n) => {
    const one = String(s || '').replace(/\s+/g, ' ');
    return one.length > n ? `${one.slice(0, n - 1)}…` : one;
  };
  const uiDir = () => (S.lang === 'ar' ? 'rtl' : 'ltr');
  const roleName = (r) => (r ? t(`role.${r}`) : t('role.none'));
  const channelName = (c) => (c === 'plenary' || c === 'limited' ? t(`channel.${c}`) : c);

  function badge(text, cls) {
    return el('span', { class: `badge ${cls || ''}`, lang: S.lang, dir: uiDir() }, text);
  }

  function statusBadge(status) {
    return el(
      'span',
      { class: `status-label status-${status}`, lang: S.lang, dir: uiDir() },
      STATUSES.includes(status) ? t(`status.${status}`) : status,
    );
  }

  function b64utf8(s) {
    const bytes = new TextEncoder().encode(s);
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(bin);
  }

  function slug(s) {
    const x = String(s || '')
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
    return x || 'negotiation';
  }

  // ---------------------------------------------------------------------------------------------
  // Messages to the person: errors (role="alert") and confirmations (role="status")

  function showError(err) {
    const msg = err instanceof Error ? err.message : String(err);
    const box = $('#alert');
    box.replaceChildren(
      el(
        'div',
        { class: 'alert-box' },
        el('p', {}, el('strong', {}, t('alert.title')), ' ', el('span', { class: 'alert-text', dir: 'auto' }, msg)),
        el('button', { type: 'button', class: 'dismiss', on: { click: clearError } }, t('alert.dismiss')),
      ),
    );
  }

  function clearError() {
    $('#alert').replaceChildren();
  }

  let noticeTimer = 0;
  function notify(msg) {
    const box = $('#status');
    box.replaceChildren(
      el(
        'div',
        { class: 'notice-box' },
        el('p', {}, rich(msg)),
        el('button', { type: 'button', class: 'dismiss', on: { click: () => box.replaceChildren() } }, t('alert.dismiss')),
      ),
    );
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => box.replaceChildren(), 10000);
  }

  /** Runs what a button or form asked for: errors go to the alert region. */
  async function act(button, fn) {
    if (button && button._busy) return undefined;
    if (button) {
      button._busy = true;
      button.setAttribute('aria-busy', 'true');
      button.classList.add('busy');
    }
    try {
      clearError();
      return await fn();
    } catch (e) {
      if (e.status !== 401) showError(e);
      return undefined;
    } finally {
      if (button) {
        button._busy = false;
        button.removeAttribute('aria-busy');
        button.classList.remove('busy');
      }
    }
  }

  function need(value, label) {
    if (!String(value || '').trim()) throw new Error(t('error.required', { field: label }));
    return String(value).trim();
  }

  // ---------------------------------------------------------------------------------------------
  // The API

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, { method = 'GET', body, raw = false } = {}) {
    if (!S.token) throw new ApiError(t('login.needed'), 401);
    const headers = { Authorization: `Bearer ${S.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(t('error.network'), 0);
    }
    if (res.status === 401) {
      logout();
      throw new ApiError(t('login.needed'), 401);
    }
    if (!res.ok) {
      let msg = '';
      try {
        const j = await res.json();
        msg = j.error || '';
      } catch {
        /* not JSON */
      }
      throw new ApiError(msg || t('error.http', { status: res.status }), res.status);
    }
    if (raw) return res;
    return res.json();
  }

  const qs = (params) => {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
    const s = u.toString();
    return s ? `?${s}` : '';
  };
  const negPath = (N, p = '') => `/api/negotiations/${encodeURIComponent(N.id)}${p}`;

  /** Fetches a file with the token and hands it to the browser as a download. */
  async function download(path, filename) {
    const res = await api(path, { raw: true });
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: filename, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
    notify(t('export.done', { file: filename }));
  }

  // ---------------------------------------------------------------------------------------------
  // Interface language

  function initialLanguage() {
    const saved = localStorage.getItem(LANG_KEY);
    if (UI_LANGS.includes(saved)) return saved;
    for (const l of navigator.languages || [navigator.language || 'en']) {
      const p = String(l).toLowerCase().split('-')[0];
      if (UI_LANGS.includes(p)) return p;
    }
    return 'en';
  }

  function applyLanguage(lang) {
    S.lang = UI_LANGS.includes(lang) ? lang : 'en';
    window.t.setLanguage(S.lang);
    const root = document.documentElement;
    root.lang = S.lang;
    root.dir = uiDir();
    document.title = t('app.title');
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll('[data-i18n-attr]')) {
      const [attr, key] = node.dataset.i18nAttr.split(':');
      node.setAttribute(attr, t(key));
    }
    for (const b of document.querySelectorAll('#langs button')) {
      b.setAttribute('aria-pressed', String(b.dataset.lang === S.lang));
    }
    $('#login-text').replaceChildren(...rich(t('login.message')));
    renderLive();
  }

  function switchLanguage(lang) {
    localStorage.setItem(LANG_KEY, lang);
    applyLanguage(lang);
    if (!S.token || $('#shell').hidden) return;
    renderMe();
    renderNav();
    if (S.N) {
      buildNegotiation(S.N);
      refreshNegotiation();
    } else {
      S.home = null;
      renderHome();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Signing in and out

  function showLogin() {
    $('#shell').hidden = true;
    $('#login').hidden = false;
    $('#whoami').replaceChildren();
    renderLive();
  }

  function logout() {
    S.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    if (S.live) S.live.abort();
    S.live = null;
    S.N = null;
    showLogin();
  }

  async function redeem(code) {
    history.replaceState(null, '', location.pathname + location.search);
    let res;
    let j = {};
    try {
      res = await fetch('/api/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code }),
        cache: 'no-store',
      });
      j = await res.json().catch(() => ({}));
    } catch {
      throw new ApiError(t('error.network'), 0);
    }
    if (!res.ok || !j.token) throw new ApiError(j.error || t('error.http', { status: res.status }), res.status);
    S.token = j.token;
    sessionStorage.setItem(TOKEN_KEY, j.token);
  }

  function loginCode() {
    const m = /^#(?:.*&)?login=([^&]+)/.exec(location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }

  async function start() {
    applyLanguage(initialLanguage());
    wireStatic();
    const code = loginCode();
    if (code) {
      try {
        await redeem(code);
      } catch (e) {
        showError(e);
        if (!S.token) {
          showLogin();
          return;
        }
      }
    }
    if (!S.token) {
      showLogin();
      return;
    }
    await enterApp();
  }

  async function enterApp() {
    $('#login').hidden = true;
    $('#shell').hidden = false;
    renderLive();
    try {
      S.me = await api('/api/me');
    } catch (e) {
      if (e.status === 401) return;
      showError(e);
    }
    renderMe();
    await loadNegotiations();
    if (!S.token) return;
    route();
    startEvents();
  }

  function wireStatic() {
    for (const b of document.querySelectorAll('#langs button')) {
      b.addEventListener('click', () => switchLanguage(b.dataset.lang));
    }
    $('#skip-link').addEventListener('click', (e) => {
      e.preventDefault();
      $('#main').focus();
    });
    window.addEventListener('hashchange', async () => {
      const code = loginCode();
      if (code) {
        try {
          await redeem(code);
          clearError();
          await enterApp();
        } catch (e) {
          showError(e);
        }
        return;
      }
      if (!location.hash || location.hash.startsWith('#/')) route();
    });
    setInterval(tick, 1000);
  }

  function renderMe() {
    const box = $('#whoami');
    if (!S.me) {
      box.replaceChildren();
      return;
    }
    box.replaceChildren(
      el('span', { class: 'whoami-label' }, t('me.signedInAs')),
      ' ',
      el('strong', { dir: 'auto' }, S.me.name || short(S.me.delegation)),
      ' ',
      el('span', { class: 'fingerprint', dir: 'ltr', title: t('me.fingerprint') }, S.me.fingerprint),
    );
  }

  function renderLive() {
    const box = $('#live');
    if (!box) return;
    box.hidden = !S.token || $('#shell').hidden;
    box.classList.toggle('up', S.liveUp);
    box.replaceChildren(el('span', { class: 'dot', 'aria-hidden': 'true' }), ' ', S.liveUp ? t('live.on') : t('live.off'));
  }

  // ---------------------------------------------------------------------------------------------
  // Live updates: /api/events read with fetch, parsed as server-sent events

  function startEvents() {
    if (S.live) return;
    const ctrl = new AbortController();
    S.live = ctrl;
    streamEvents(ctrl);
  }

  async function streamEvents(ctrl) {
    let backoff = 1000;
    let first = true;
    while (S.token && !ctrl.signal.aborted) {
      try {
        const res = await fetch('/api/events', {
          headers: { Authorization: `Bearer ${S.token}`, Accept: 'text/event-stream' },
          signal: ctrl.signal,
          cache: 'no-store',
        });
        if (res.status === 401) {
          logout();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        setLive(true);
        backoff = 1000;
        // Whatever happened while the stream was down.
        if (!first) onResync();
        first = false;
        await readEvents(res.body.getReader(), ctrl);
      } catch {
        if (ctrl.signal.aborted) return;
      }
      setLive(false);
      const wait = backoff + Math.random() * 500;
      backoff = Math.min(backoff * 2, 30000);
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  function setLive(up) {
    S.liveUp = up;
    renderLive();
  }

  /** The SSE text format: `field: value` lines, a blank line ends a message, `:` starts a
   * comment. */
  async function readEvents(reader, ctrl) {
    const decoder = new TextDecoder();
    let buf = '';
    let type = '';
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done || ctrl.signal.aborted) return;
      buf += decoder.decode(value, { stream: true });
      for (;;) {
        const i = buf.search(/[\r\n]/);
        if (i < 0) break;
        if (buf[i] === '\r' && i === buf.length - 1) break; // maybe \r\n split across chunks
        const line = buf.slice(0, i);
        buf = buf.slice(buf[i] === '\r' && buf[i + 1] === '\n' ? i + 2 : i + 1);
        if (line === '') {
          if (data.length) dispatch(type || 'message', data.join('\n'));
          type = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (name === 'event') type = val;
        else if (name === 'data') data.push(val);
      }
    }
  }

  function dispatch(type, data) {
    if (type === 'resync') {
      onResync();
      return;
    }
    if (type !== 'event') return;
    let ev;
    try {
      ev = JSON.parse(data);
    } catch {
      return;
    }
    // The list shows titles, roles and counts: reload it when those may have changed.
    const known = S.negs.some((n) => n.negotiation === ev.negotiation);
    if (!known || !S.N || MEMBERSHIP_KINDS.has(ev.kind)) scheduleNegotiations();
    if (S.N && ev.negotiation === S.N.id) scheduleRefresh();
  }

  function onResync() {
    scheduleNegotiations();
    if (S.N) scheduleRefresh();
  }

  function scheduleRefresh() {
    const N = S.N;
    if (!N || N.timer) return;
    N.timer = setTimeout(() => {
      N.timer = 0;
      if (S.N === N) refreshNegotiation();
    }, REFRESH_DELAY_MS);
  }

  function scheduleNegotiations() {
    if (S.negsTimer) return;
    S.negsTimer = setTimeout(async () => {
      S.negsTimer = 0;
      try {
        await loadNegotiations();
      } catch {
        /* shown by loadNegotiations */
      }
    }, REFRESH_DELAY_MS);
  }

  // ---------------------------------------------------------------------------------------------
  // Routing: #/ is the list, #/n/<id>/<tab> a negotiation

  function parseHash() {
    const m = /^#\/n\/([^/]+)(?:\/([a-z]+))?$/.exec(location.hash);
    if (m) return { neg: decodeURIComponent(m[1]), tab: TABS.includes(m[2]) ? m[2] : 'text' };
    return { neg: null, tab: 'text' };
  }

  function route() {
    if (!S.token) return;
    const r = parseHash();
    if (r.neg) {
      if (!S.N || S.N.id !== r.neg) openNegotiation(r.neg, r.tab);
      else selectTab(r.tab, false);
    } else {
      S.N = null;
      renderHome();
    }
    renderNav();
  }

  async function loadNegotiations() {
    try {
      S.negs = await api('/api/negotiations');
    } catch (e) {
      if (e.status !== 401) showError(e);
      return;
    }
    renderNav();
    if (!S.N && S.home) renderHomeTable();
  }

  function renderNav() {
    const nav = $('#nav');
    const current = S.N ? S.N.id : null;
    renderInto(nav, JSON.stringify([S.lang, current, S.negs.map((n) => [n.negotiation, n.title, n.my_role])]), () => [
      el('h2', { class: 'nav-title' }, t('nav.heading')),
      el(
        'ul',
        { class: 'nav-list' },
        el(
          'li',
          {},
          el('a', { href: '#/', class: 'nav-home', 'aria-current': current ? null : 'page', 'data-fkey': 'nav:home' }, t('nav.all')),
        ),
        S.negs.map((n) =>
          el(
            'li',
            {},
            el(
              'a',
              {
                href: `#/n/${encodeURIComponent(n.negotiation)}`,
                class: 'nav-neg',
                testid: 'nav-negotiation',
                'data-negotiation': n.negotiation,
                'data-fkey': `nav:${n.negotiation}`,
                'aria-current': n.negotiation === current ? 'page' : null,
              },
              el('span', { class: 'nav-neg-title', dir: 'auto' }, n.title),
              el('span', { class: 'nav-neg-role' }, roleName(n.my_role)),
            ),
          ),
        ),
      ),
      S.negs.length ? null : el('p', { class: 'muted' }, t('nav.none')),
    ]);
  }

  // ---------------------------------------------------------------------------------------------
  // Screen 1: the negotiations

  function renderHome() {
    const main = $('#main');
    if (!S.home || !main.contains(S.home.root)) {
      const u = {};
      u.table = el('div', { class: 'table-wrap' });
      u.title = el('input', { type: 'text', testid: 'create-title', autocomplete: 'off', dir: 'auto' });
      u.langs = el('input', { type: 'text', testid: 'create-languages', value: 'en', dir: 'ltr', autocomplete: 'off', spellcheck: 'false' });
      u.mandate = el('textarea', { testid: 'create-mandate', rows: 2, dir: 'auto' });
      const submit = el('button', { type: 'submit', class: 'primary', testid: 'create-submit' }, t('create.submit'));
      const form = el(
        'form',
        {
          class: 'card',
          on: {
            submit: (e) => {
              e.preventDefault();
              act(submit, async () => {
                const title = need(u.title.value, t('create.title'));
                const languages = u.langs.value.split(',').map((s) => s.trim()).filter(Boolean);
                const res = await api('/api/negotiations', {
                  method: 'POST',
                  body: { title, languages: languages.length ? languages : ['en'], mandate: u.mandate.value.trim() },
                });
                u.title.value = '';
                u.mandate.value = '';
                notify(t('create.done', { title }));
                await loadNegotiations();
                location.hash = `#/n/${encodeURIComponent(res.negotiation)}`;
              });
            },
          },
        },
        el('h2', {}, t('create.heading')),
        field(t('create.title'), u.title),
        field(t('create.languages'), u.langs, t('create.languagesHint')),
        field(t('create.mandate'), u.mandate),
        el('div', { class: 'actions' }, submit),
      );
      u.root = el(
        'div',
        { class: 'home' },
        el('h1', {}, t('home.heading')),
        u.table,
        el('div', { class: 'columns' }, form, joinForm()),
      );
      S.home = u;
      main.replaceChildren(u.root);
    }
    renderHomeTable();
  }

  // Joining by invitation token goes through this node (POST /api/join): it fetches the
  // negotiation from the inviter, then posts this device's join.
  function joinForm() {
    const token = el('textarea', { testid: 'join-token', rows: 3, dir: 'ltr', spellcheck: 'false', autocomplete: 'off' });
    const submit = el('button', { type: 'submit', class: 'primary', testid: 'join-submit' }, t('join.submit'));
    return el(
      'form',
      {
        class: 'card',
        on: {
          submit: (e) => {
            e.preventDefault();
            act(submit, async () => {
              const value = need(token.value.trim(), t('join.token'));
              notify(t('join.fetching'));
              const res = await api('/api/join', { method: 'POST', body: { token: value } });
              token.value = '';
              notify(t('join.done', { title: res.title }));
              await loadNegotiations();
              location.hash = `#/n/${encodeURIComponent(res.negotiation)}`;
            });
          },
        },
      },
      el('h2', {}, t('join.heading')),
      field(t('join.token'), token, t('join.help')),
      el('div', { class: 'actions' }, submit),
      el('p', { class: 'hint' }, rich(t('join.note'))),
    );
  }

  function renderHomeTable() {
    const u = S.home;
    renderInto(u.table, JSON.stringify([S.lang, S.negs]), () => {
      if (!S.negs.length) return el('p', { class: 'empty' }, t('home.none'));
      return el(
        'table',
        { class: 'data', testid: 'negotiations-table' },
        el('caption', { class: 'sr-only' }, t('home.heading')),
        el(
          'thead',
          {},
          el('tr', {}, ['home.col.title', 'home.col.role', 'home.col.members', 'home.col.languages', 'home.col.events'].map((k) => el('th', { scope: 'col' }, t(k)))),
        ),
        el(
          'tbody',
          {},
          S.negs.map((n) =>
            el(
              'tr',
              { 'data-negotiation': n.negotiation },
              el('th', { scope: 'row' }, el('a', { href: `#/n/${encodeURIComponent(n.negotiation)}`, dir: 'auto', 'data-fkey': `home:${n.negotiation}` }, n.title)),
              el('td', {}, roleName(n.my_role)),
              el('td', {}, String(n.members)),
              el('td', {}, (n.languages || []).map(langName).join(', ')),
              el('td', {}, String(n.events)),
            ),
          ),
        ),
      );
    });
  }

  // ---------------------------------------------------------------------------------------------
  // A negotiation: header, silence banners, tabs

  function openNegotiation(id, tab) {
    const N = {
      id,
      gen: ++generation,
      tab,
      summary: null,
      revisions: [],
      silences: [],
      rev: null,
      followLatest: true,
      lang: null,
      lang2: null,
      parallel: false,
      clean: false,
      channel: 'plenary',
      timer: 0,
      refreshing: false,
      again: false,
    };
    S.N = N;
    S.home = null;
    buildNegotiation(N);
    refreshNegotiation();
  }

  const TAB_IMPL = {};

  function buildNegotiation(N) {
    N.ui = {};
    N.built = {};
    N.banners = new Map();
    N.head = el('div', { class: 'neg-head' }, el('h1', {}, t('neg.loading')));
    N.bannersEl = el('div', { class: 'banners' });
    N.tabs = {};
    N.panels = {};
    const tablist = el('div', { class: 'tabs', role: 'tablist', 'aria-label': t('tabs.label') });
    for (const name of TABS) {
      const tab = el(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: `tab-${name}`,
          testid: `tab-${name}`,
          'aria-controls': `panel-${name}`,
          'aria-selected': 'false',
          tabindex: '-1',
          on: { click: () => selectTab(name, true) },
        },
        t(`tab.${name}`),
      );
      N.tabs[name] = tab;
      tablist.append(tab);
      N.panels[name] = el('section', { role: 'tabpanel', id: `panel-${name}`, class: 'panel', 'aria-labelledby': `tab-${name}`, tabindex: '0', hidden: true });
    }
    tablist.addEventListener('keydown', (e) => {
      const i = TABS.indexOf(N.tab);
      const rtl = document.documentElement.dir === 'rtl';
      let j = null;
      if (e.key === 'ArrowRight') j = rtl ? i - 1 : i + 1;
      else if (e.key === 'ArrowLeft') j = rtl ? i + 1 : i - 1;
      else if (e.key === 'Home') j = 0;
      else if (e.key === 'End') j = TABS.length - 1;
      if (j === null) return;
      e.preventDefault();
      selectTab(TABS[(j + TABS.length) % TABS.length], true, true);
    });
    $('#main').replaceChildren(N.head, N.bannersEl, tablist, ...TABS.map((n) => N.panels[n]));
    showTab(N, N.tab);
  }

  function showTab(N, name) {
    N.tab = name;
    for (const n of TABS) {
      const on = n === name;
      N.tabs[n].setAttribute('aria-selected', String(on));
      N.tabs[n].tabIndex = on ? 0 : -1;
      N.panels[n].hidden = !on;
    }
    if (!N.built[name]) {
      N.built[name] = true;
      TAB_IMPL[name].build(N, N.panels[name]);
    }
  }

  function selectTab(name, user, focus) {
    const N = S.N;
    if (!N) return;
    if (!TABS.includes(name)) name = 'text';
    const changed = N.tab !== name;
    showTab(N, name);
    if (focus) N.tabs[name].focus();
    if (user) history.replaceState(null, '', `#/n/${encodeURIComponent(N.id)}/${name}`);
    if (changed && N.summary) refreshNegotiation();
  }

  /** Fetches what the header and the visible tab show; one run at a time, and one more if asked
   * meanwhile. */
  async function refreshNegotiation() {
    const N = S.N;
    if (!N) return;
    if (N.refreshing) {
      N.again = true;
      return;
    }
    N.refreshing = true;
    try {
      do {
        N.again = false;
        const [summary, revisions, silences] = await Promise.all([
          api(negPath(N)),
          api(negPath(N, '/revisions')),
          api(negPath(N, '/silences')),
        ]);
        if (S.N !== N) return;
        N.summary = summary;
        N.revisions = revisions;
        N.silences = silences;
        pickRevision(N);
        renderNegHead(N);
        renderBanners(N);
        await TAB_IMPL[N.tab].refresh(N);
      } while (N.again && S.N === N);
    } catch (e) {
      if (S.N === N && e.status !== 401) {
        showError(e);
        if (e.status === 404 && !N.summary) {
          history.replaceState(null, '', '#/');
          route();
        }
      }
    } finally {
      N.refreshing = false;
    }
  }

  const isChair = (N) => N.summary && N.summary.my_role === 'chair';
  const canPen = (N) => !!(N.summary && N.summary.pen);
  const currentRev = (N) => N.revisions.find((r) => r.revision === N.rev) || null;
  const latestRev = (N) => (N.revisions.length ? N.revisions[N.revisions.length - 1] : null);
  const workingLanguage = (N) => (N.summary && N.summary.languages && N.summary.languages[0]) || 'en';

  function pickRevision(N) {
    const latest = latestRev(N);
    if (!latest) {
      N.rev = null;
      return;
    }
    if (N.followLatest || !N.revisions.some((r) => r.revision === N.rev)) N.rev = latest.revision;
  }

  function revLabel(r) {
    const bits = [r.label || short(r.revision)];
    if (r.symbol) bits.push(r.symbol);
    bits.push(fmtTime(r.time));
    let s = bits.join(' · ');
    if (r.adoption) s += ` — ${t(`adoption.${r.adoption.status}`)}`;
    return s;
  }

  function names(N) {
    const m = new Map();
    for (const x of (N.summary && N.summary.members) || []) m.set(x.delegation, x.name);
    return m;
  }
  const nameOf = (N, id) => names(N).get(id) || short(id);

  function renderNegHead(N) {
    const s = N.summary;
    const r = currentRev(N);
    const exportButtons = [
      ['record', t('export.record')],
      ['public', t('export.public')],
      ['akn', t('export.akn')],
      ['html', t('export.html')],
    ];
    renderInto(N.head, JSON.stringify([S.lang, s.title, s.my_role, s.members.length, s.languages, s.decision_rule, s.unreadable, s.pen, r && r.revision, N.lang, N.clean]), () => [
      el(
        'div',
        { class: 'neg-title' },
        el('h1', { dir: 'auto' }, s.title),
        el(
          'p',
          { class: 'meta' },
          el('span', {}, t('neg.role'), ' ', el('strong', {}, roleName(s.my_role))),
          s.pen && s.my_role !== 'chair' ? el('span', {}, badge(t('neg.penholder'), 'info')) : null,
          el('span', {}, t('neg.members'), ' ', String(s.members.filter((m) => m.status === 'active' || m.status === 'accredited').length)),
          el('span', {}, t('neg.languages'), ' ', s.languages.map(langName).join(', ')),
          el('span', {}, t('neg.rule'), ' ', t(`rule.${s.decision_rule}`)),
          el('span', { class: 'mono', dir: 'ltr', title: s.negotiation }, short(s.negotiation)),
        ),
        s.mandate ? el('p', { class: 'mandate', dir: 'auto' }, s.mandate) : null,
        s.unreadable ? el('p', { class: 'warning-inline' }, t('neg.unreadable', { n: s.unreadable })) : null,
      ),
      el(
        'div',
        { class: 'exports', role: 'group', 'aria-label': t('export.group') },
        el('span', { class: 'exports-label', 'aria-hidden': 'true' }, t('export.group')),
        exportButtons.map(([kind, label]) =>
          el(
            'button',
            {
              type: 'button',
              class: 'small',
              testid: `export-${kind}`,
              'data-fkey': `export:${kind}`,
              disabled: (kind === 'akn' || kind === 'html') && !r,
              on: { click: (e) => act(e.currentTarget, () => exportFile(N, kind)) },
            },
            label,
          ),
        ),
      ),
    ]);
    // A warning on the members tab when a verified delegation's devices changed.
    const changed = s.members.some((m) => m.devices_changed);
    const membersTab = N.tabs.members;
    replaceWith(membersTab, t('tab.members'), changed ? el('span', { class: 'tab-warning', title: t('members.devicesChangedShort') }, ' ⚠', el('span', { class: 'sr-only' }, t('members.devicesChangedShort'))) : null);
  }

  async function exportFile(N, kind) {
    const base = slug(N.summary.title);
    if (kind === 'record') return download(negPath(N, '/export/record'), `${base}-record.ent`);
    if (kind === 'public') return download(negPath(N, '/export/public'), `${base}-public-signed-text.ent`);
    const r = currentRev(N);
    if (!r) throw new Error(t('text.noRevision'));
    const lang = N.lang || r.languages[0];
    const name = `${base}-${slug(r.label)}-${lang}`;
    if (kind === 'akn') return download(negPath(N, `/text${qs({ rev: r.revision, lang, format: 'akn' })}`), `${name}.akn.xml`);
    return download(negPath(N, `/text${qs({ rev: r.revision, lang, format: 'html', clean: N.clean ? 'true' : '' })}`), `${name}.html`);
  }

  // ---------------------------------------------------------------------------------------------
  // Silence procedure banner (screen 6, at the top of every tab)

  function renderBanners(N) {
    const open = N.silences.filter((s) => !s.closed);
    const keep = new Set(open.map((s) => s.silence));
    for (const [id, b] of N.banners) {
      if (!keep.has(id)) {
        b.root.remove();
        N.banners.delete(id);
      }
    }
    for (const s of open) {
      let b = N.banners.get(s.silence);
      if (!b) {
        b = buildBanner(N, s);
        N.banners.set(s.silence, b);
        N.bannersEl.append(b.root);
      }
      b.update(s);
    }
    tick();
  }

  function buildBanner(N, s0) {
    const b = { id: s0.silence };
    const titleId = nextId('silence');
    b.title = el('h2', { id: titleId });
    b.info = el('div', { class: 'banner-info' });
    b.reason = el('input', { type: 'text', testid: 'silence-break-reason', dir: 'auto', autocomplete: 'off' });
    b.grounds = el('select', { testid: 'silence-break-grounds' }, GROUNDS.map((g) => el('option', { value: g }, t(`grounds.${g}`))));
    const breakBtn = el('button', { type: 'submit', class: 'danger', testid: 'silence-break' }, t('silence.break'));
    const form = el(
      'form',
      {
        class: 'break-form',
        on: {
          submit: (e) => {
            e.preventDefault();
            act(breakBtn, async () => {
              const reason = b.reason.value.trim();
              const res = await api(negPath(N, `/silences/${encodeURIComponent(b.id)}/break`), {
                method: 'POST',
                body: { reason: reason || undefined, grounds: b.grounds.value },
              });
              b.reason.value = '';
              notify(res.late ? t('silence.brokenLate') : t('silence.broken'));
              refreshNegotiation();
            });
          },
        },
      },
      field(t('silence.breakReason'), b.reason),
      field(t('silence.grounds'), b.grounds),
      el('div', { class: 'actions' }, breakBtn),
    );
    b.chairBox = el('div', { class: 'actions chair-actions' });
    b.root = el('section', { class: 'silence-banner', testid: 'silence-banner', 'data-silence': s0.silence, 'aria-labelledby': titleId }, b.title, b.info, form, b.chairBox);
    b.update = (s) => {
      b.title.textContent = t('silence.bannerTitle', { label: s.label || short(s.revision) });
      renderInto(b.info, JSON.stringify([S.lang, s.deadline, s.received_by, s.not_received_by, s.breaks, s.outcome]), () => [
        el(
          'p',
          { class: 'countdown-line' },
          t('silence.remaining'),
          ' ',
          el('strong', { class: 'countdown', testid: 'silence-countdown', role: 'timer', 'data-deadline': String(s.deadline) }, countdownText(s.deadline)),
          ' · ',
          t('silence.deadline'),
          ' ',
          timeEl(s.deadline, s.deadline_utc),
          ' ',
          el('span', { class: 'muted mono', dir: 'ltr' }, s.deadline_utc),
        ),
        el('p', {}, t('silence.receivedBy'), ' ', s.received_by.length ? s.received_by.join(', ') : t('silence.nobody')),
        s.not_received_by.length ? el('p', {}, t('silence.notReceivedBy'), ' ', s.not_received_by.join(', ')) : null,
        s.breaks.length ? el('p', { class: 'breaks-line' }, t('silence.breaks'), ' ', s.breaks.map((x) => `${x.name} (${t(`grounds.${x.grounds}`)}, ${t(`standing.${x.standing}`)})`).join('; ')) : null,
        el('p', { class: 'outcome' }, outcomeText(s)),
      ]);
      renderInto(b.chairBox, JSON.stringify([S.lang, isChair(N)]), () =>
        isChair(N)
          ? el('button', { type: 'button', testid: 'silence-close', 'data-fkey': 'close', on: { click: (e) => act(e.currentTarget, () => closeSilence(N, b.id)) } }, t('silence.close'))
          : null,
      );
    };
    return b;
  }

  function outcomeText(s) {
    const key = `outcome.${s.outcome}`;
    const tr = t(key);
    return tr === key ? s.outcome_words : tr;
  }

  async function closeSilence(N, id) {
    const res = await api(negPath(N, `/silences/${encodeURIComponent(id)}/close`), { method: 'POST', body: {} });
    notify(t('silence.closed', { outcome: t(`outcome.${res.outcome}`) }));
    refreshNegotiation();
  }

  function countdownText(deadline) {
    const left = Number(deadline) - Date.now();
    if (!(left > 0)) return t('silence.deadlinePassed');
    const total = Math.floor(left / 1000);
    const d = Math.floor(total / 86400);
    const h = Math.floor((total % 86400) / 3600);
    const m = Math.floor((total % 3600) / 60);
    const sec = total % 60;
    const pad = (n) => String(n).padStart(2, '0');
    const hms = `${pad(h)}:${pad(m)}:${pad(sec)}`;
    return d > 0 ? `${t('silence.days', { n: d })} ${hms}` : hms;
  }

  function tick() {
    for (const node of document.querySelectorAll('[data-deadline]')) {
      const text = countdownText(node.dataset.deadline);
      if (node.textContent !== text) node.textContent = text;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Shared pieces of the text screens

  /** Amendments as the log has them (the API has no list of its own). */
  function amendmentsFrom(log) {
    return log
      .filter((e) => e.kind === 'amendment' && e.body && typeof e.body === 'object' && 'paragraph' in e.body)
      .map((e) => ({
        id: e.id,
        name: e.name || short(e.delegation),
        delegation: e.delegation,
        time: e.time,
        included: e.included,
        reason: e.reason,
        revision: e.body.revision,
        paragraph: e.body.paragraph,
        op: e.body.op,
        new_id: e.body.new_id,
        text: e.body.text,
        justification: e.body.justification,
      }));
  }

  function statementsFrom(log) {
    return log
      .filter((e) => e.kind === 'statement' && e.body && typeof e.body === 'object' && 'text' in e.body)
      .map((e) => ({ id: e.id, name: e.name || short(e.delegation), time: e.time, ...e.body }));
  }

  function amendmentSummary(a) {
    if (a.op === 'delete') return t('amend.summary.delete', { p: a.paragraph });
    if (a.op === 'insert-after') return t('amend.summary.insert', { p: a.paragraph, id: a.new_id });
    return t('amend.summary.replace', { p: a.paragraph });
  }

  function myStance(N, positions, target, paragraph) {
    const me = N.summary.my_delegation;
    const row = positions.find((p) => p.delegation === me && p.target === target && (p.paragraph || '') === (paragraph || ''));
    return row ? row.stance : null;
  }

  function stanceButtons(N, target, current, testPrefix, label) {
    return el(
      'div',
      { class: 'stance-buttons', role: 'group', 'aria-label': label },
      el('span', { class: 'stance-label', 'aria-hidden': 'true' }, t('position.yours')),
      STANCES.map((s) =>
        el(
          'button',
          {
            type: 'button',
            class: `small stance stance-${s}`,
            testid: `${testPrefix}${s}`,
            'aria-pressed': String(current === s),
            'data-fkey': `${testPrefix}${target}:${s}`,
            on: { click: (e) => act(e.currentTarget, () => takePosition(N, target, s, '')) },
          },
          t(`stance.${s}`),
        ),
      ),
    );
  }

  async function takePosition(N, target, stance, note) {
    await api(negPath(N, '/positions'), { method: 'POST', body: { target, stance, note, rev: N.rev } });
    notify(t('position.done', { stance: t(`stance.${stance}`) }));
    refreshNegotiation();
  }

  function positionsLine(N, rows) {
    if (!rows.length) return null;
    return el(
      'p',
      { class: 'positions-line' },
      t('position.taken'),
      ' ',
      rows.map((r, i) => [i ? ', ' : '', el('span', { class: `stance-chip stance-${r.stance}` }, `${r.name}: ${t(`stanceWord.${r.stance}`)}`)]),
    );
  }

  async function fetchView(N, rev, lang) {
    return api(negPath(N, `/text${qs({ rev, lang, format: 'json' })}`));
  }

  function paragraphOptions(view) {
    return view.paragraphs.map((p) => ({ value: p.id, label: `${p.id} — ${truncate(p.text, 70)}`, dir: view.rtl ? 'rtl' : 'ltr' }));
  }

  function noRevisionNote(N) {
    return el('p', { class: 'empty' }, canPen(N) ? t('text.noRevisionPen') : t('text.noRevision'));
  }

  function revisionContext(N) {
    const r = currentRev(N);
    if (!r) return noRevisionNote(N);
    return el('p', { class: 'context' }, t('context.revision'), ' ', el('strong', { dir: 'auto' }, r.label), ' ', el('span', { class: 'muted' }, `(${t('context.change')})`));
  }

  // ---------------------------------------------------------------------------------------------
  // Screen 2: the text

  TAB_IMPL.text = {
    build(N, panel) {
      const u = (N.ui.text = { seq: 0 });
      const refresh = () => refreshNegotiation();
      u.rev = el('select', {
        testid: 'revision-select',
        on: {
          change: () => {
            N.rev = u.rev.value;
            const latest = latestRev(N);
            N.followLatest = !!latest && latest.revision === N.rev;
            refresh();
          },
        },
      });
      u.lang = el('select', { testid: 'language-select', on: { change: () => { N.lang = u.lang.value; refresh(); } } });
      u.clean = el('input', { type: 'checkbox', testid: 'clean-toggle', on: { change: () => { N.clean = u.clean.checked; refresh(); } } });
      u.parallel = el('input', {
        type: 'checkbox',
        testid: 'parallel-toggle',
        on: {
          change: () => {
            N.parallel = u.parallel.checked;
            u.lang2Field.hidden = !N.parallel;
            refresh();
          },
        },
      });
      u.lang2 = el('select', { testid: 'parallel-language-select', on: { change: () => { N.lang2 = u.lang2.value; refresh(); } } });
      u.lang2Field = field(t('text.secondLanguage'), u.lang2);
      u.lang2Field.hidden = !N.parallel;
      u.meta = el('div', { class: 'text-meta' });
      u.body = el('div', { class: 'text-body' });

      u.from = el('select', { testid: 'compare-from' });
      u.to = el('select', { testid: 'compare-to' });
      u.diff = el('div', { class: 'diff-result', 'aria-live': 'polite' });
      const compareBtn = el('button', { type: 'submit', testid: 'compare-submit' }, t('diff.submit'));
      const compare = (u.compare = el(
        'details',
        { class: 'card compare' },
        el('summary', {}, t('diff.heading')),
        el(
          'form',
          {
            class: 'inline-form',
            on: {
              submit: (e) => {
                e.preventDefault();
                act(compareBtn, () => runDiff(N));
              },
            },
          },
          field(t('diff.from'), u.from),
          field(t('diff.to'), u.to),
          el('p', { class: 'hint' }, t('diff.languageHint')),
          el('div', { class: 'actions' }, compareBtn),
        ),
        u.diff,
      ));
      u.circulate = el('div', { class: 'circulate-slot' });
      panel.append(
        el(
          'div',
          { class: 'toolbar' },
          field(t('text.revision'), u.rev),
          field(t('text.language'), u.lang),
          checkField(t('text.clean'), u.clean),
          checkField(t('text.parallel'), u.parallel),
          u.lang2Field,
        ),
        u.meta,
        u.body,
        compare,
        u.circulate,
      );
    },

    async refresh(N) {
      const u = N.ui.text;
      const seq = ++u.seq;
      const revs = N.revisions;
      const revOptions = revs.map((r) => ({ value: r.revision, label: revLabel(r) }));
      fillSelect(u.rev, revOptions, N.rev);
      u.rev.disabled = !revs.length;
      fillSelect(u.from, revOptions, revs.length > 1 ? revs[revs.length - 2].revision : undefined);
      fillSelect(u.to, revOptions, revs.length ? revs[revs.length - 1].revision : undefined);
      u.clean.checked = N.clean;
      u.parallel.checked = N.parallel;
      u.lang2Field.hidden = !N.parallel;
      u.compare.hidden = revs.length < 2;
      renderCirculate(N);
      const r = currentRev(N);
      if (!r) {
        fillSelect(u.lang, []);
        fillSelect(u.lang2, []);
        u.lang.disabled = true;
        renderInto(u.meta, 'none', () => []);
        renderInto(u.body, `none:${S.lang}:${canPen(N)}`, () => noRevisionNote(N));
        return;
      }
      u.lang.disabled = false;
      if (!r.languages.includes(N.lang)) N.lang = r.languages.includes(S.lang) ? S.lang : r.languages[0];
      if (!r.languages.includes(N.lang2) || N.lang2 === N.lang) N.lang2 = r.languages.find((l) => l !== N.lang) || N.lang;
      const langOptions = r.languages.map((l) => ({ value: l, label: langName(l) }));
      fillSelect(u.lang, langOptions, N.lang);
      fillSelect(u.lang2, langOptions, N.lang2);

      const [view, view2, positions] = await Promise.all([
        fetchView(N, r.revision, N.lang),
        N.parallel ? fetchView(N, r.revision, N.lang2) : null,
        api(negPath(N, `/positions${qs({ rev: r.revision })}`)),
      ]);
      // Amendment details only when the text names some.
      const named = view.paragraphs.some((p) => p.proposals.length || p.brackets.some((b) => b.amendments.length));
      const log = named ? await api(negPath(N, '/log')) : [];
      if (seq !== u.seq || S.N !== N) return;
      const amendments = new Map(amendmentsFrom(log).map((a) => [a.id, a]));
      const ctx = { N, positions, amendments, rev: r, chair: isChair(N) };
      renderInto(u.meta, JSON.stringify([S.lang, view.title, view.symbol, view.label, view.hash, view.adopted, r.by, r.time]), () => [
        view.symbol ? el('p', { class: 'symbol', dir: 'ltr' }, view.symbol) : null,
        view.title ? el('h2', { class: 'doc-title', lang: view.language, dir: dirOf(view.language) }, view.title) : null,
        el(
          'p',
          { class: 'byline' },
          t('text.byline', { label: view.label, by: r.by || '—' }),
          ' ',
          timeEl(r.time, r.time_utc),
          view.adopted ? [' ', badge(t(`adoption.${view.adopted}`), `adoption-${view.adopted}`)] : null,
        ),
        el('p', { class: 'hash' }, t('text.hash'), ' ', el('span', { class: 'mono', dir: 'ltr' }, view.hash)),
        el('p', { class: 'legend', 'aria-label': t('text.legend') }, STATUSES.map((s) => [statusBadge(s), ' '])),
      ]);
      const amendKey = [...amendments.values()].filter((a) => a.revision === r.revision);
      renderInto(u.body, JSON.stringify([S.lang, N.clean, N.parallel, ctx.chair, view, view2, positions, amendKey, N.summary.members.map((m) => [m.delegation, m.name])]), () =>
        N.parallel && view2 ? renderParallel(ctx, view, view2) : renderDocument(ctx, view),
      );
    },
  };

  function viewDir(view) {
    return typeof view.rtl === 'boolean' ? (view.rtl ? 'rtl' : 'ltr') : dirOf(view.language);
  }

  function renderDocument(ctx, view) {
    const pre = view.paragraphs.filter((p) => p.part === 'preamble');
    const op = view.paragraphs.filter((p) => p.part !== 'preamble');
    return el(
      'div',
      { class: 'document' },
      pre.length ? [el('h3', { class: 'part-heading' }, t('text.preamble')), pre.map((p) => renderParagraph(ctx, view, p, true))] : null,
      op.length ? [el('h3', { class: 'part-heading' }, t('text.operative')), op.map((p) => renderParagraph(ctx, view, p, true))] : null,
    );
  }

  function renderParallel(ctx, a, b) {
    const byId = new Map(b.paragraphs.map((p) => [p.id, p]));
    const head = (v) => el('h3', { class: 'parallel-head', lang: S.lang }, langName(v.language));
    return el(
      'div',
      { class: 'parallel', testid: 'parallel-view' },
      head(a),
      head(b),
      a.paragraphs.map((p) => {
        const q = byId.get(p.id);
        return [renderParagraph(ctx, a, p, true), q ? renderParagraph(ctx, b, q, false) : el('div', { class: 'para missing' }, t('text.missingParagraph', { id: p.id }))];
      }),
    );
  }

  /** Lays a paragraph's text out with its open brackets (as the node's views do): a bracket on
   * words replaces their first free occurrence with its options; brackets on the whole paragraph
   * are merged into one after it. */
  function layout(p) {
    const pieces = [{ text: p.text }];
    let whole = null;
    for (const b of p.brackets) {
      if (!b.span) {
        whole = whole || { ids: [], alternatives: [] };
        whole.ids.push(b.id);
        for (const o of b.options.slice(1)) if (!whole.alternatives.includes(o)) whole.alternatives.push(o);
        continue;
      }
      const bracket = { id: b.id, options: b.options.length ? b.options : [b.span] };
      let placed = false;
      for (let i = 0; i < pieces.length && !placed; i++) {
        const piece = pieces[i];
        if (piece.text === undefined) continue;
        const at = piece.text.indexOf(b.span);
        if (at < 0) continue;
        const rep = [];
        if (at > 0) rep.push({ text: piece.text.slice(0, at) });
        rep.push(bracket);
        const after = piece.text.slice(at + b.span.length);
        if (after) rep.push({ text: after });
        pieces.splice(i, 1, ...rep);
        placed = true;
      }
      if (!placed) pieces.push({ text: ' ' }, bracket);
    }
    return { pieces, whole };
  }

  function optionNode(o, first) {
    if (!o) return el('span', { class: 'option delete', lang: S.lang, dir: uiDir() }, t('text.deleteOption'));
    return el('span', { class: 'option', dir: 'auto' }, o);
  }

  function bracketGroup(ids, options) {
    return el(
      'span',
      { class: 'bracket-inline', 'data-brackets': ids, dir: 'auto' },
      '[',
      options.map((o, i) => [i ? ' / ' : '', i === 0 && o instanceof Node ? o : optionNode(typeof o === 'string' ? o : '', i === 0)]),
      ']',
    );
  }

  function bracketedText(p) {
    const l = layout(p);
    const nodes = l.pieces.map((piece) =>
      piece.text !== undefined ? piece.text : bracketGroup(piece.id, piece.options.map((o) => o)),
    );
    if (!l.whole) return nodes;
    const first = el('span', { class: 'option', dir: 'auto' }, nodes);
    return bracketGroup(l.whole.ids.join(' '), [first, ...l.whole.alternatives]);
  }

  function renderParagraph(ctx, view, p, primary) {
    const { N } = ctx;
    const lang = view.language;
    const dir = viewDir(view);
    const clean = N.clean;
    const level = Math.min(p.level || 0, 3);
    const art = el('article', {
      class: `para status-${p.status} level-${level}`,
      testid: 'paragraph',
      'data-id': p.id,
      'data-status': p.status,
      'data-part': p.part,
      'data-language': lang,
      lang,
      dir,
      'aria-label': `${p.id}${clean ? '' : ` — ${t(`status.${p.status}`)}`}`,
    });
    art.append(
      el(
        'div',
        { class: 'para-head' },
        el('span', { class: 'pid', dir: 'ltr' }, p.id),
        clean ? null : statusBadge(p.status),
        !clean && p.stale_translation ? badge(t('text.staleTranslation'), 'stale') : null,
      ),
      el('p', { class: 'para-text' }, clean ? p.text : bracketedText(p)),
    );
    if (clean) return art;
    const notes = [];
    for (const b of p.brackets) notes.push(renderBracket(ctx, p, b, primary));
    for (const id of p.proposals) {
      const a = ctx.amendments.get(id);
      notes.push(
        el(
          'li',
          { class: 'proposal', 'data-amendment': id },
          el('strong', {}, t('text.proposal')),
          ' ',
          a ? `${amendmentSummary(a)} — ${t('text.by', { name: a.name })}` : short(id),
          a && a.text ? [': ', el('q', { dir: 'auto' }, a.text)] : null,
        ),
      );
    }
    if (p.pending_ad_referendum.length) {
      notes.push(el('li', { class: 'pending' }, t('text.pendingAdRef', { names: p.pending_ad_referendum.map((d) => nameOf(N, d)).join(', ') })));
    }
    const rows = ctx.positions.filter((x) => x.target === ctx.rev.revision && x.paragraph === p.id);
    const extra = el(
      'div',
      { class: 'para-notes', lang: S.lang, dir: uiDir() },
      notes.length ? el('ul', { class: 'notes' }, notes) : null,
      positionsLine(N, rows),
      primary ? stanceButtons(N, p.id, myStance(N, ctx.positions, ctx.rev.revision, p.id), 'para-position-', t('position.onParagraph', { p: p.id })) : null,
    );
    art.append(extra);
    return art;
  }

  function renderBracket(ctx, p, b, primary) {
    const { N } = ctx;
    const conflict = b.amendments.length > 0;
    const li = el('li', { class: `bracket ${conflict ? 'conflict' : ''}`, testid: 'bracket', 'data-id': b.id });
    append(li, [
      el('strong', {}, conflict ? t('bracket.conflict') : b.span ? t('bracket.onWords') : t('bracket.onParagraph')),
      b.span ? [' ', el('q', { dir: 'auto' }, b.span)] : null,
    ]);
    li.append(
      el(
        'ol',
        { class: 'options' },
        b.options.map((o, i) => {
          const a = conflict && i > 0 ? [...ctx.amendments.values()].find((x) => b.amendments.includes(x.id) && (x.op === 'delete' ? '' : x.text) === o) : null;
          return el(
            'li',
            {},
            o ? el('span', { dir: 'auto' }, o) : optionNode('', false),
            i === 0 ? [' ', badge(conflict ? t('bracket.original') : t('bracket.circulated'), 'muted-badge')] : null,
            a ? [' ', el('span', { class: 'muted' }, t('text.by', { name: a.name }))] : null,
          );
        }),
      ),
    );
    if (b.reason && !conflict) li.append(el('p', { class: 'reason' }, t('bracket.reason'), ' ', el('span', { dir: 'auto' }, b.reason)));
    if (b.placed_by) li.append(el('p', { class: 'muted' }, t('bracket.placedBy', { name: nameOf(N, b.placed_by) })));
    if (!conflict && primary) {
      const opt = el('input', { type: 'text', dir: 'auto', 'data-fkey': `opt:${b.id}`, autocomplete: 'off' });
      const addBtn = el('button', { type: 'submit', class: 'small' }, t('bracket.addOption'));
      li.append(
        el(
          'form',
          {
            class: 'inline-form compact',
            on: {
              submit: (e) => {
                e.preventDefault();
                act(addBtn, async () => {
                  const text = need(opt.value, t('bracket.newOption'));
                  await api(negPath(N, `/brackets/${encodeURIComponent(b.id)}/options`), { method: 'POST', body: { text } });
                  opt.value = '';
                  notify(t('bracket.optionAdded'));
                  refreshNegotiation();
                });
              },
            },
          },
          field(t('bracket.newOption'), opt),
          addBtn,
        ),
      );
      if (ctx.chair) {
        const choice = el('select', { 'data-fkey': `choice:${b.id}` }, b.options.map((o) => el('option', { value: o }, o ? truncate(o, 80) : t('text.deleteOption'))));
        const resolveBtn = el('button', { type: 'submit', class: 'small' }, t('bracket.resolve'));
        li.append(
          el(
            'form',
            {
              class: 'inline-form compact',
              on: {
                submit: (e) => {
                  e.preventDefault();
                  act(resolveBtn, async () => {
                    await api(negPath(N, `/brackets/${encodeURIComponent(b.id)}/resolve`), { method: 'POST', body: { choice: choice.value } });
                    notify(t('bracket.resolved'));
                    refreshNegotiation();
                  });
                },
              },
            },
            field(t('bracket.choice'), choice),
            resolveBtn,
          ),
        );
      }
    }
    return li;
  }

  async function runDiff(N) {
    const u = N.ui.text;
    const from = u.from.value;
    const to = u.to.value;
    if (!from || !to) throw new Error(t('text.noRevision'));
    const res = await api(negPath(N, `/diff${qs({ from, to, lang: N.lang })}`));
    const dir = res.rtl ? 'rtl' : dirOf(res.language);
    renderInto(u.diff, undefined, () => [
      el('h3', {}, t('diff.result', { from: res.from, to: res.to, lang: langName(res.language) })),
      el('p', { class: 'legend' }, el('ins', {}, t('diff.inserted')), ' ', el('del', {}, t('diff.deleted'))),
      res.diff.paragraphs.map((p) =>
        el(
          'div',
          { class: `diff-para change-${p.change}`, testid: 'diff-paragraph', 'data-id': p.id, 'data-change': p.change, lang: res.language, dir },
          el('span', { class: 'pid', dir: 'ltr' }, p.id),
          ' ',
          badge(t(`change.${p.change}`), `change-badge change-${p.change}`),
          ' ',
          el(
            'span',
            { class: 'diff-text' },
            p.words.map(([kind, text]) => (kind === 'insert' ? el('ins', {}, text) : kind === 'delete' ? el('del', {}, text) : text)),
          ),
        ),
      ),
    ]);
  }

  /** The circulate form of the chair and pen-holders: one textarea per language. */
  function renderCirculate(N) {
    const u = N.ui.text;
    if (!canPen(N)) {
      u.circulate.replaceChildren();
      u.circ = null;
      return;
    }
    const langs = N.summary.languages;
    const sig = JSON.stringify([S.lang, langs]);
    if (u.circ && u.circ.sig === sig) return;
    const c = { sig, areas: {} };
    c.label = el('input', { type: 'text', testid: 'circulate-label', dir: 'auto', autocomplete: 'off' });
    const submit = el('button', { type: 'submit', class: 'primary', testid: 'circulate-submit' }, t('circulate.submit'));
    const load = el('button', { type: 'button', testid: 'circulate-load' }, t('circulate.load'));
    const areas = langs.map((l) => {
      const ta = el('textarea', { rows: 10, lang: l, dir: dirOf(l), class: 'source', testid: `circulate-text-${l}`, spellcheck: 'false' });
      c.areas[l] = ta;
      return field(t('circulate.textIn', { lang: langName(l) }), ta);
    });
    const loadCurrent = async () => {
      const r = latestRev(N);
      if (!r) return;
      await Promise.all(
        r.languages
          .filter((l) => c.areas[l])
          .map(async (l) => {
            const res = await api(negPath(N, `/text${qs({ rev: r.revision, lang: l, format: 'text' })}`), { raw: true });
            c.areas[l].value = await res.text();
          }),
      );
    };
    load.addEventListener('click', () => act(load, loadCurrent));
    const details = el(
      'details',
      {
        class: 'card circulate',
        on: {
          toggle: () => {
            if (details.open && !c.loaded && Object.values(c.areas).every((a) => !a.value)) {
              c.loaded = true;
              act(null, loadCurrent);
            }
          },
        },
      },
      el('summary', {}, t('circulate.heading')),
      el(
        'form',
        {
          on: {
            submit: (e) => {
              e.preventDefault();
              act(submit, async () => {
                const label = need(c.label.value, t('circulate.label'));
                const texts = {};
                for (const [l, ta] of Object.entries(c.areas)) if (ta.value.trim()) texts[l] = ta.value;
                const res = await api(negPath(N, '/revisions'), { method: 'POST', body: { label, texts } });
                c.label.value = '';
                N.followLatest = true;
                notify(
                  res.stale_translations && res.stale_translations.length
                    ? t('circulate.doneStale', { label, list: res.stale_translations.join(', ') })
                    : t('circulate.done', { label }),
                );
                details.open = false;
                refreshNegotiation();
              });
            },
          },
        },
        field(t('circulate.label'), c.label, t('circulate.labelHint')),
        el('p', { class: 'hint' }, rich(t('circulate.convention'))),
        areas,
        el('div', { class: 'actions' }, load, submit),
      ),
    );
    c.root = details;
    // The first revision is what a new negotiation waits for.
    if (!latestRev(N)) details.open = true;
    u.circ = c;
    u.circulate.replaceChildren(details);
  }

  // ---------------------------------------------------------------------------------------------
  // Screen 3: amendments, statements, marks and brackets

  TAB_IMPL.amend = {
    build(N, panel) {
      const u = (N.ui.amend = { seq: 0 });
      u.context = el('div', { class: 'context-slot' });
      // The composer.
      u.para = el('select', { testid: 'amend-paragraph' });
      u.op = el('select', { testid: 'amend-op' }, OPS.map((o) => el('option', { value: o }, t(`op.${o}`))));
      u.newId = el('input', { type: 'text', testid: 'amend-new-id', dir: 'ltr', autocomplete: 'off', spellcheck: 'false', placeholder: 'OP2bis' });
      u.newIdField = field(t('amend.newId'), u.newId, t('amend.newIdHint'));
      u.text = el('textarea', { testid: 'amend-text', rows: 4 });
      u.textField = field(t('amend.text'), u.text, t('amend.textHint'));
      u.just = el('textarea', { testid: 'amend-justification', rows: 2, dir: 'auto' });
      const submit = el('button', { type: 'submit', class: 'primary', testid: 'amend-submit' }, t('amend.submit'));
      const syncOp = () => {
        const op = u.op.value;
        u.newIdField.hidden = op !== 'insert-after';
        u.textField.hidden = op === 'delete';
      };
      u.op.addEventListener('change', syncOp);
      syncOp();
      const composer = el(
        'form',
        {
          class: 'card',
          testid: 'amend-form',
          on: {
            submit: (e) => {
              e.preventDefault();
              act(submit, async () => {
                const r = currentRev(N);
                if (!r) throw new Error(t('text.noRevision'));
                const op = u.op.value;
                const body = { paragraph: need(u.para.value, t('amend.paragraph')), op, justification: u.just.value.trim(), rev: r.revision };
                if (op !== 'delete') body.text = need(u.text.value, t('amend.text'));
                const original = u.viewParas && u.viewParas.get(body.paragraph);
                if (op === 'replace' && original !== undefined && original.trim() === body.text) throw new Error(t('amend.unchanged'));
                if (op === 'insert-after') body.new_id = need(u.newId.value, t('amend.newId'));
                await api(negPath(N, '/amendments'), { method: 'POST', body });
                u.text.value = '';
                u.just.value = '';
                u.newId.value = '';
                notify(t('amend.done', { p: body.paragraph }));
                refreshNegotiation();
              });
            },
          },
        },
        el('h2', {}, t('amend.heading')),
        field(t('amend.paragraph'), u.para),
        field(t('amend.op'), u.op),
        u.newIdField,
        u.textField,
        field(t('amend.justification'), u.just),
        el('div', { class: 'actions' }, submit),
      );
      u.list = el('div', { class: 'amendments', testid: 'amendments-list' });

      // Statements.
      u.stText = el('textarea', { testid: 'statement-text', rows: 3, dir: 'auto' });
      u.stKind = el('select', { testid: 'statement-kind' }, STATEMENT_KINDS.map((k) => el('option', { value: k }, t(`statementKind.${k}`))));
      u.stOn = el('select', { testid: 'statement-on' });
      u.stPara = el('select', { testid: 'statement-paragraph' });
      const stSubmit = el('button', { type: 'submit', testid: 'statement-submit' }, t('statement.submit'));
      const statementForm = el(
        'form',
        {
          class: 'card',
          on: {
            submit: (e) => {
              e.preventDefault();
              act(stSubmit, async () => {
                const body = { text: need(u.stText.value, t('statement.text')), kind: u.stKind.value, paragraph: u.stPara.value };
                if (u.stOn.value) body.on = u.stOn.value;
                await api(negPath(N, '/statements'), { method: 'POST', body });
                u.stText.value = '';
                notify(t('statement.done'));
                refreshNegotiation();
              });
            },
          },
        },
        el('h2', {}, t('statement.heading')),
        field(t('statement.text'), u.stText),
        field(t('statement.kind'), u.stKind),
        field(t('statement.on'), u.stOn),
        field(t('statement.paragraph'), u.stPara),
        el('div', { class: 'actions' }, stSubmit),
      );
      u.statements = el('div', { class: 'statements' });

      // Marks.
      u.markPara = el('select', { testid: 'mark-paragraph' });
      u.mark = el('select', { testid: 'mark-kind' }, MARKS.map((m) => el('option', { value: m }, t(`mark.${m}`))));
      const markSubmit = el('button', { type: 'submit', testid: 'mark-submit' }, t('mark.submit'));
      const markForm = el(
        'form',
        {
          class: 'card',
          on: {
            submit: (e) => {
              e.preventDefault();
              act(markSubmit, async () => {
                const paragraph = need(u.markPara.value, t('mark.paragraph'));
                await api(negPath(N, '/marks'), { method: 'POST', body: { paragraph, mark: u.mark.value, rev: N.rev } });
                notify(t('mark.done', { p: paragraph, mark: t(`mark.${u.mark.value}`) }));
                refreshNegotiation();
              });
            },
          },
        },
        el('h2', {}, t('mark.heading')),
        el('p', { class: 'hint' }, t('mark.hint')),
        field(t('mark.paragraph'), u.markPara),
        field(t('mark.kind'), u.mark),
        el('div', { class: 'actions' }, markSubmit),
      );

      // Brackets.
      u.brPara = el('select', { testid: 'bracket-paragraph' });
      u.brSpan = el('input', { type: 'text', testid: 'bracket-span', autocomplete: 'off' });
      u.brOptions = el('textarea', { testid: 'bracket-options', rows: 3 });
      u.brReason = el('input', { type: 'text', testid: 'bracket-reason', dir: 'auto', autocomplete: 'off' });
      const brSubmit = el('button', { type: 'submit', testid: 'bracket-submit' }, t('bracket.submit'));
      const bracketForm = el(
        'form',
        {
          class: 'card',
          on: {
            submit: (e) => {
              e.preventDefault();
              act(brSubmit, async () => {
                const paragraph = need(u.brPara.value, t('bracket.paragraph'));
                const options = u.brOptions.value.split('\n').map((s) => s.trim()).filter(Boolean);
                await api(negPath(N, '/brackets'), {
                  method: 'POST',
                  body: { paragraph, span: u.brSpan.value.trim(), options, reason: u.brReason.value.trim(), rev: N.rev },
                });
                u.brSpan.value = '';
                u.brOptions.value = '';
                u.brReason.value = '';
                notify(t('bracket.done', { p: paragraph }));
                refreshNegotiation();
              });
            },
          },
        },
        el('h2', {}, t('bracket.heading')),
        field(t('bracket.paragraph'), u.brPara),
        field(t('bracket.span'), u.brSpan, t('bracket.spanHint')),
        field(t('bracket.options'), u.brOptions, t('bracket.optionsHint')),
        field(t('bracket.reasonLabel'), u.brReason),
        el('div', { class: 'actions' }, brSubmit),
      );

      panel.append(
        u.context,
        el('div', { class: 'columns' }, composer, el('section', { class: 'amend-list-section' }, el('h2', {}, t('amend.listHeading')), u.list)),
        el('div', { class: 'columns' }, statementForm, el('section', {}, el('h2', {}, t('statement.listHeading')), u.statements)),
        el('div', { class: 'columns' }, markForm, bracketForm),
      );
    },

    async refresh(N) {
      const u = N.ui.amend;
      const seq = ++u.seq;
      const r = currentRev(N);
      renderInto(u.context, JSON.stringify([S.lang, r && r.revision, r && r.label, canPen(N)]), () => revisionContext(N));
      const wl = workingLanguage(N);
      u.text.lang = wl;
      u.text.dir = dirOf(wl);
      u.brSpan.lang = wl;
      u.brSpan.dir = dirOf(wl);
      u.brOptions.lang = wl;
      u.brOptions.dir = dirOf(wl);
      if (!r) {
        for (const s of [u.para, u.markPara, u.brPara, u.stPara]) fillSelect(s, []);
        fillSelect(u.stOn, [{ value: '', label: t('statement.onRevision') }]);
        renderInto(u.list, `none:${S.lang}`, () => el('p', { class: 'empty' }, t('amend.none')));
        renderInto(u.statements, `none:${S.lang}`, () => el('p', { class: 'empty' }, t('statement.none')));
        return;
      }
      const [view, log, positions] = await Promise.all([
        fetchView(N, r.revision, r.languages.includes(wl) ? wl : r.languages[0]),
        api(negPath(N, '/log')),
        api(negPath(N, `/positions${qs({ rev: r.revision })}`)),
      ]);
      if (seq !== u.seq || S.N !== N) return;
      const paraOptions = paragraphOptions(view);
      const prevPara = u.para.value;
      fillSelect(u.para, paraOptions);
      fillSelect(u.markPara, paraOptions);
      fillSelect(u.brPara, paraOptions);
      fillSelect(u.stPara, [{ value: '', label: t('statement.noParagraph') }, ...paraOptions]);
      // A replacement starts from the paragraph's text.
      if (!u._wired) {
        u._wired = true;
        u.para.addEventListener('change', () => prefill(u));
        u.op.addEventListener('change', () => prefill(u));
      }
      u.viewParas = new Map(view.paragraphs.map((p) => [p.id, p.text]));
      if (prevPara !== u.para.value) prefill(u);

      const all = amendmentsFrom(log);
      const amendments = all.filter((a) => a.revision === r.revision);
      fillSelect(u.stOn, [
        { value: '', label: t('statement.onRevision') },
        ...amendments.map((a) => ({ value: a.id, label: `${amendmentSummary(a)} — ${t('text.by', { name: a.name })} (${short(a.id)})` })),
      ]);
      const wlDir = dirOf(view.language);
      renderInto(u.list, JSON.stringify([S.lang, amendments, positions, N.summary.my_delegation]), () => {
        if (!amendments.length) return el('p', { class: 'empty' }, t('amend.none'));
        return amendments.map((a) => {
          const rows = positions.filter((p) => p.target === a.id && !p.paragraph);
          return el(
            'article',
            { class: `amendment op-${a.op}`, testid: 'amendment', 'data-id': a.id, 'data-paragraph': a.paragraph, 'data-op': a.op },
            el(
              'header',
              {},
              el('h3', {}, amendmentSummary(a)),
              el('p', { class: 'muted' }, t('text.by', { name: a.name }), ' · ', timeEl(a.time), ' · ', el('span', { class: 'mono', dir: 'ltr', title: a.id }, short(a.id))),
            ),
            a.op === 'delete'
              ? el('p', { class: 'amend-body deletion' }, t('amend.deletes', { p: a.paragraph }))
              : el('blockquote', { class: 'amend-body', lang: view.language, dir: wlDir }, a.text),
            u.viewParas.has(a.paragraph) && a.op === 'replace'
              ? el('details', { class: 'original' }, el('summary', {}, t('amend.original')), el('p', { lang: view.language, dir: wlDir }, u.viewParas.get(a.paragraph)))
              : null,
            a.justification ? el('p', { class: 'justification' }, el('strong', {}, t('amend.justificationLabel')), ' ', el('span', { dir: 'auto' }, a.justification)) : null,
            a.included === false ? el('p', { class: 'warning-inline' }, t('amend.excluded'), ' ', a.reason || '') : null,
            positionsLine(N, rows),
            a.included === false ? null : stanceButtons(N, a.id, myStance(N, positions, a.id, ''), 'position-', t('position.onAmendment', { p: a.paragraph })),
          );
        });
      });
      const statements = statementsFrom(log);
      const amendById = new Map(all.map((a) => [a.id, a]));
      const revById = new Map(N.revisions.map((x) => [x.revision, x]));
      renderInto(u.statements, JSON.stringify([S.lang, statements]), () => {
        if (!statements.length) return el('p', { class: 'empty' }, t('statement.none'));
        return el(
          'ul',
          { class: 'statement-list' },
          statements.map((s) => {
            const a = amendById.get(s.target);
            const rv = revById.get(s.target);
            const on = a ? amendmentSummary(a) : rv ? rv.label : short(s.target);
            return el(
              'li',
              { testid: 'statement', 'data-id': s.id },
              el('p', { class: 'muted' }, el('strong', {}, STATEMENT_KINDS.includes(s.kind) ? t(`statementKind.${s.kind}`) : s.kind), ' · ', t('text.by', { name: s.name }), ' · ', t('statement.onLabel', { on }), s.paragraph ? ` · ${s.paragraph}` : '', ' · ', timeEl(s.time)),
              el('p', { dir: 'auto' }, s.text),
            );
          }),
        );
      });
    },
  };

  function prefill(u) {
    if (u.op.value !== 'replace') return;
    const text = u.viewParas && u.viewParas.get(u.para.value);
    if (text === undefined) return;
    if (!u.text.value || u.text.value === u._prefilled) {
      u.text.value = text;
      u._prefilled = text;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Screen 3b: the positions matrix

  TAB_IMPL.positions = {
    build(N, panel) {
      const u = (N.ui.positions = { seq: 0 });
      u.context = el('div', { class: 'context-slot' });
      u.matrix = el('div', { class: 'table-wrap matrix-wrap' });
      u.target = el('select', { testid: 'position-target' });
      u.stance = el('select', { testid: 'position-stance' }, STANCES.map((s) => el('option', { value: s }, t(`stance.${s}`))));
      u.note = el('input', { type: 'text', testid: 'position-note', dir: 'auto', autocomplete: 'off' });
      const submit = el('button', { type: 'submit', class: 'primary', testid: 'position-submit' }, t('position.submit'));
      const form = el(
        'form',
        {
          class: 'card',
          on: {
            submit: (e) => {
              e.preventDefault();
              act(submit, async () => {
                const target = need(u.target.value, t('position.target'));
                await takePosition(N, target, u.stance.value, u.note.value.trim());
                u.note.value = '';
              });
            },
          },
        },
        el('h2', {}, t('position.heading')),
        field(t('position.target'), u.target),
        field(t('position.stance'), u.stance),
        field(t('position.note'), u.note),
        el('div', { class: 'actions' }, submit),
      );
      panel.append(u.context, el('h2', {}, t('matrix.heading')), u.matrix, el('p', { class: 'legend' }, STANCES.map((s) => [el('span', { class: `stance-chip stance-${s}` }, t(`stanceWord.${s}`)), ' ', t(`stanceHelp.${s}`), ' '])), form);
    },

    async refresh(N) {
      const u = N.ui.positions;
      const seq = ++u.seq;
      const r = currentRev(N);
      renderInto(u.context, JSON.stringify([S.lang, r && r.revision, r && r.label, canPen(N)]), () => revisionContext(N));
      if (!r) {
        fillSelect(u.target, []);
        renderInto(u.matrix, `none:${S.lang}`, () => el('p', { class: 'empty' }, t('matrix.none')));
        return;
      }
      const wl = workingLanguage(N);
      const [positions, log, view] = await Promise.all([
        api(negPath(N, `/positions${qs({ rev: r.revision })}`)),
        api(negPath(N, '/log')),
        fetchView(N, r.revision, r.languages.includes(wl) ? wl : r.languages[0]),
      ]);
      if (seq !== u.seq || S.N !== N) return;
      const amendments = amendmentsFrom(log).filter((a) => a.revision === r.revision && a.included !== false);
      fillSelect(u.target, [
        ...paragraphOptions(view),
        ...amendments.map((a) => ({ value: a.id, label: `${amendmentSummary(a)} — ${t('text.by', { name: a.name })} (${short(a.id)})` })),
      ]);
      // Columns: paragraphs someone took a position on, in the text's order, then amendments.
      const onParas = new Set(positions.filter((p) => p.paragraph).map((p) => p.paragraph));
      const targets = [
        ...view.paragraphs.filter((p) => onParas.has(p.id)).map((p) => ({ key: p.id, label: p.id, sub: truncate(p.text, 40), dir: viewDir(view), paragraph: true })),
        ...amendments.map((a) => ({ key: a.id, label: amendmentSummary(a), sub: `${t('text.by', { name: a.name })} · ${short(a.id)}` })),
      ];
      for (const p of positions) {
        const key = p.paragraph || p.target;
        if (!targets.some((x) => x.key === key)) targets.push({ key, label: p.paragraph || t('matrix.amendment', { id: short(p.target) }), sub: '' });
      }
      // Rows: the members (observers take no positions), then anyone else who did.
      const rows = [];
      for (const m of N.summary.members) {
        if ((m.status === 'active' || m.status === 'accredited') && m.role !== 'observer') rows.push({ id: m.delegation, name: m.name });
      }
      for (const p of positions) if (!rows.some((x) => x.id === p.delegation)) rows.push({ id: p.delegation, name: p.name });
      const cell = new Map(positions.map((p) => [`${p.delegation}|${p.paragraph || p.target}`, p.stance]));
      renderInto(u.matrix, JSON.stringify([S.lang, targets, rows, positions]), () =>
        el(
          'table',
          { class: 'data matrix', testid: 'positions-matrix' },
          el('caption', {}, t('matrix.caption', { label: r.label })),
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', { scope: 'col' }, t('matrix.delegation')),
              targets.map((x) => el('th', { scope: 'col', 'data-target': x.key }, el('span', { class: 'target-label' }, x.label), x.sub ? el('span', { class: 'target-sub', dir: x.dir || 'auto' }, x.sub) : null)),
            ),
          ),
          el(
            'tbody',
            {},
            rows.map((row) =>
              el(
                'tr',
                {},
                el('th', { scope: 'row', dir: 'auto' }, row.name),
                targets.map((x) => {
                  const stance = cell.get(`${row.id}|${x.key}`);
                  return el(
                    'td',
                    {
                      testid: 'position-cell',
                      'data-delegation': row.name,
                      'data-target': x.key,
                      'data-stance': stance || '',
                      class: stance ? `stance-cell stance-${stance}` : 'stance-cell empty',
                    },
                    stance ? t(`stanceWord.${stance}`) : '',
                  );
                }),
              ),
            ),
          ),
        ),
      );
    },
  };

  // ---------------------------------------------------------------------------------------------
  // Screen 4: channels and chat

  TAB_IMPL.channels = {
    build(N, panel) {
      const u = (N.ui.channels = { seq: 0 });
      u.list = el('div', { class: 'channel-list' });
      u.head = el('div', { class: 'chat-head' });
      u.messages = el('ol', { class: 'messages', testid: 'chat-messages', 'aria-live': 'polite', 'aria-relevant': 'additions' });
      u.input = el('textarea', { testid: 'chat-input', rows: 2, dir: 'auto' });
      const send = el('button', { type: 'submit', class: 'primary', testid: 'chat-send' }, t('chat.send'));
      u.input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          form.requestSubmit();
        }
      });
      u.inputLabel = el('label', { for: 'chat-input' }, t('chat.message'));
      u.input.id = 'chat-input';
      const form = el(
        'form',
        {
          class: 'chat-form',
          on: {
            submit: (e) => {
              e.preventDefault();
              act(send, async () => {
                const text = need(u.input.value, t('chat.message'));
                await api(negPath(N, '/messages'), { method: 'POST', body: { channel: N.channel, text } });
                u.input.value = '';
                u.stick = true;
                refreshNegotiation();
              });
            },
          },
        },
        u.inputLabel,
        el('div', { class: 'chat-input-row' }, u.input, send),
        el('p', { class: 'hint' }, t('chat.hint')),
      );
      panel.append(el('div', { class: 'chat-layout' }, el('section', { class: 'card channels-card', 'aria-labelledby': 'channels-heading' }, el('h2', { id: 'channels-heading' }, t('chat.channels')), u.list), el('section', { class: 'card chat' }, u.head, u.messages, form)));
    },

    async refresh(N) {
      const u = N.ui.channels;
      const seq = ++u.seq;
      const channels = [...(N.summary.channels || [])];
      if (!channels.some((c) => c.name === 'plenary')) channels.unshift({ name: 'plenary', readers: [] });
      channels.sort((a, b) => (a.name === 'plenary' ? -1 : b.name === 'plenary' ? 1 : 0));
      if (!channels.some((c) => c.name === N.channel)) N.channel = 'plenary';
      renderInto(u.list, JSON.stringify([S.lang, channels, N.channel]), () =>
        el(
          'ul',
          { class: 'channel-buttons' },
          channels.map((c) =>
            el(
              'li',
              {},
              el(
                'button',
                {
                  type: 'button',
                  class: 'channel-button',
                  testid: 'channel',
                  'data-channel': c.name,
                  'data-fkey': `channel:${c.name}`,
                  'aria-current': c.name === N.channel ? 'true' : null,
                  on: {
                    click: () => {
                      N.channel = c.name;
                      u.stick = true;
                      refreshNegotiation();
                    },
                  },
                },
                el('span', { class: 'channel-name' }, `# ${channelName(c.name)}`),
                el('span', { class: 'channel-readers' }, t('chat.readers', { n: c.readers.length })),
              ),
            ),
          ),
        ),
      );
      const ch = channels.find((c) => c.name === N.channel);
      renderInto(u.head, JSON.stringify([S.lang, ch]), () => [
        el('h2', {}, `# ${channelName(ch.name)}`),
        el('p', { class: 'muted' }, t('chat.readBy'), ' ', ch.readers.length ? ch.readers.join(', ') : t('chat.everyone')),
      ]);
      u.inputLabel.textContent = t('chat.messageTo', { channel: channelName(ch.name) });
      const log = await api(negPath(N, `/log${qs({ channel: N.channel })}`));
      if (seq !== u.seq || S.N !== N) return;
      const msgs = log.filter((e) => e.kind === 'message' || e.kind === 'note' || e.unreadable);
      const atBottom = u.messages.scrollHeight - u.messages.scrollTop - u.messages.clientHeight < 40;
      const renderMessage = (m) =>
        el(
          'li',
          { class: `message ${m.kind === 'note' ? 'note' : ''} ${m.delegation === N.summary.my_delegation ? 'mine' : ''}`, testid: 'chat-message', 'data-id': m.id },
          el('div', { class: 'message-meta' }, el('strong', { dir: 'auto' }, m.name || short(m.delegation || m.author)), ' ', timeEl(m.time, m.time_utc), m.kind === 'note' ? [' ', badge(t('chat.note'), 'info')] : null),
          m.unreadable
            ? el('p', { class: 'unreadable' }, t('chat.unreadable', { why: m.unreadable }))
            : el('p', { class: 'message-text', dir: 'auto' }, (m.body && m.body.text) || ''),
        );
      // Only new messages are added (the list is a live region: nothing is read out twice).
      const keys = msgs.map((m) => `${m.id}:${m.unreadable ? 1 : 0}`);
      const context = `${S.lang}|${N.channel}`;
      const prev = u.shown && u.shown.context === context ? u.shown.keys : null;
      let changed = true;
      if (prev && prev.length <= keys.length && prev.every((k, i) => k === keys[i])) {
        if (prev.length === keys.length) changed = false;
        else {
          if (!prev.length) u.messages.replaceChildren();
          append(u.messages, msgs.slice(prev.length).map(renderMessage));
        }
      } else {
        u.messages.replaceChildren(...(msgs.length ? msgs.map(renderMessage) : [el('li', { class: 'empty' }, t('chat.none'))]));
      }
      u.shown = { context, keys };
      if (changed && (atBottom || u.stick)) u.messages.scrollTop = u.messages.scrollHeight;
      u.stick = false;
    },
  };

  // ---------------------------------------------------------------------------------------------
  // Screen 5: members, verification, invitations

  function qrImage(svg, name) {
    if (!svg) return null;
    return el('img', { class: 'qr', src: `data:image/svg+xml;base64,${b64utf8(svg)}`, alt: t('members.qrAlt', { name }), width: 140, height: 140 });
  }

  TAB_IMPL.members = {
    build(N, panel) {
      const u = (N.ui.members = {});
      u.me = el('div', { class: 'me-slot' });
      u.list = el('div', { class: 'member-grid' });
      u.invite = el('div', { class: 'invite-slot' });
      panel.append(
        el('h2', {}, t('members.heading')),
        el('p', { class: 'hint' }, t('members.verifyHelp')),
        u.list,
        u.invite,
        u.me,
      );
    },

    async refresh(N) {
      const u = N.ui.members;
      const s = N.summary;
      renderInto(u.list, JSON.stringify([S.lang, s.members]), () =>
        s.members.map((m) => {
          const toggle = el('input', {
            type: 'checkbox',
            testid: 'verified-toggle',
            'data-fkey': `verified:${m.delegation}`,
            checked: m.verified,
            on: {
              change: (e) => {
                const box = e.currentTarget;
                act(null, async () => {
                  try {
                    await api(negPath(N, `/members/${encodeURIComponent(m.delegation)}/verified`), { method: 'POST', body: { verified: box.checked } });
                    notify(box.checked ? t('members.verifiedDone', { name: m.name }) : t('members.unverifiedDone', { name: m.name }));
                  } catch (err) {
                    box.checked = !box.checked;
                    throw err;
                  }
                  refreshNegotiation();
                });
              },
            },
          });
          return el(
            'article',
            { class: `member card ${m.devices_changed ? 'changed' : ''}`, testid: 'member', 'data-delegation': m.delegation, 'data-verified': String(m.verified) },
            el(
              'header',
              {},
              el('h3', { dir: 'auto' }, m.name || short(m.delegation)),
              m.me ? badge(t('members.you'), 'info') : null,
              m.verified ? badge(t('members.verified'), 'ok') : badge(t('members.notVerified'), 'muted-badge'),
            ),
            m.devices_changed
              ? el('div', { class: 'devices-changed', testid: 'devices-changed-warning' }, el('strong', {}, `⚠ ${t('members.devicesChangedTitle')}`), ' ', t('members.devicesChanged'))
              : null,
            el(
              'dl',
              { class: 'facts' },
              el('dt', {}, t('members.role')),
              el('dd', {}, roleName(m.role)),
              el('dt', {}, t('members.status')),
              el('dd', {}, t(`memberStatus.${m.status}`)),
              el('dt', {}, t('members.fingerprint')),
              el('dd', { class: 'mono fingerprint', dir: 'ltr' }, m.fingerprint),
              el('dt', {}, t('members.safetyWords')),
              el('dd', {}, el('ol', { class: 'safety-words', lang: 'en', dir: 'ltr' }, (m.safety_words || []).map((w) => el('li', {}, w)))),
              el('dt', {}, t('members.delegationId')),
              el('dd', { class: 'mono id', dir: 'ltr' }, m.delegation),
            ),
            el('div', { class: 'member-qr' }, qrImage(m.qr, m.name)),
            el(
              'div',
              { class: 'devices' },
              el('h4', {}, t('members.devices')),
              m.devices.length
                ? el('ul', {}, m.devices.map((d) => el('li', {}, el('span', { dir: 'auto' }, d.label || t('members.unlabelled')), ' ', el('span', { class: 'mono', dir: 'ltr' }, d.fingerprint))))
                : el('p', { class: 'muted' }, t('members.noDevices')),
            ),
            checkField(t('members.verifiedInPerson'), toggle),
          );
        }),
      );
      renderInvite(N);
      renderInto(u.me, JSON.stringify([S.lang, S.me && S.me.delegation]), () =>
        S.me
          ? el(
              'details',
              { class: 'card me-card' },
              el('summary', {}, t('me.heading')),
              el(
                'div',
                { class: 'me-body' },
                el(
                  'dl',
                  { class: 'facts' },
                  el('dt', {}, t('members.name')),
                  el('dd', { dir: 'auto' }, S.me.name),
                  el('dt', {}, t('members.fingerprint')),
                  el('dd', { class: 'mono fingerprint', dir: 'ltr' }, S.me.fingerprint),
                  el('dt', {}, t('members.safetyWords')),
                  el('dd', {}, el('ol', { class: 'safety-words', lang: 'en', dir: 'ltr' }, (S.me.safety_words || []).map((w) => el('li', {}, w)))),
                  el('dt', {}, t('members.delegationId')),
                  el('dd', { class: 'mono id', dir: 'ltr' }, S.me.delegation),
                ),
                qrImage(S.me.qr, S.me.name),
              ),
              el('p', { class: 'hint' }, t('me.help')),
            )
          : null,
      );
    },
  };

  function renderInvite(N) {
    const u = N.ui.members;
    if (!isChair(N)) {
      u.invite.replaceChildren();
      u.inviteForm = null;
      return;
    }
    if (u.inviteForm) return;
    const id = el('input', { type: 'text', testid: 'invite-delegation', dir: 'ltr', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
    const name = el('input', { type: 'text', testid: 'invite-name', dir: 'auto', autocomplete: 'off' });
    const role = el('select', { testid: 'invite-role' }, ROLES.map((r) => el('option', { value: r }, t(`role.${r}`))));
    const result = el('div', { class: 'invite-result', 'aria-live': 'polite' });
    const submit = el('button', { type: 'submit', class: 'primary', testid: 'invite-submit' }, t('invite.submit'));
    const form = el(
      'form',
      {
        class: 'card',
        on: {
          submit: (e) => {
            e.preventDefault();
            act(submit, async () => {
              const delegation = need(id.value, t('invite.delegation'));
              const res = await api(negPath(N, '/invite'), { method: 'POST', body: { delegation, name: name.value.trim(), role: role.value } });
              const who = name.value.trim() || short(delegation);
              id.value = '';
              name.value = '';
              replaceWith(
                result,
                el('p', {}, t('invite.accredited', { name: who })),
                res.token
                  ? [
                      el('p', {}, t('invite.tokenIntro')),
                      el('pre', { class: 'command token', testid: 'invite-token', dir: 'ltr' }, `entente join ${res.token}`),
                      el(
                        'button',
                        {
                          type: 'button',
                          class: 'small',
                          on: {
                            click: async () => {
                              try {
                                await navigator.clipboard.writeText(`entente join ${res.token}`);
                                notify(t('invite.copied'));
                              } catch {
                                showError(t('invite.copyFailed'));
                              }
                            },
                          },
                        },
                        t('invite.copy'),
                      ),
                    ]
                  : el('p', { class: 'warning-inline', testid: 'invite-no-token' }, rich(t('invite.noToken'))),
              );
              refreshNegotiation();
            });
          },
        },
      },
      el('h2', {}, t('invite.heading')),
      field(t('invite.delegation'), id, t('invite.delegationHint')),
      field(t('invite.name'), name),
      field(t('invite.role'), role),
      el('div', { class: 'actions' }, submit),
      result,
    );
    u.inviteForm = form;
    u.invite.replaceChildren(form);
  }

  // ---------------------------------------------------------------------------------------------
  // Screen 6: silence procedures, objection, adoption and signatures

  TAB_IMPL.silence = {
    build(N, panel) {
      const u = (N.ui.silence = {});
      u.context = el('div', { class: 'context-slot' });
      u.list = el('div', { class: 'silence-list' });
      u.adoption = el('div', { class: 'adoption-slot' });
      u.objections = el('div', { class: 'objections-slot' });
      u.chair = el('div', { class: 'chair-slot' });
      u.result = el('div', { class: 'result', 'aria-live': 'polite' });

      // Objection (any member).
      const reason = el('input', { type: 'text', testid: 'object-reason', dir: 'auto', autocomplete: 'off' });
      const objectBtn = el('button', { type: 'submit', class: 'danger', testid: 'object-submit' }, t('object.submit'));
      const objectForm = el(
        'form',
        {
          class: 'card',
          on: {
            submit: (e) => {
              e.preventDefault();
              act(objectBtn, async () => {
                if (!N.rev) throw new Error(t('text.noRevision'));
                await api(negPath(N, '/objections'), { method: 'POST', body: { rev: N.rev, reason: reason.value.trim() || undefined } });
                reason.value = '';
                notify(t('object.done'));
                refreshNegotiation();
              });
            },
          },
        },
        el('h2', {}, t('object.heading')),
        el('p', { class: 'hint' }, t('object.hint')),
        field(t('object.reason'), reason),
        el('div', { class: 'actions' }, objectBtn),
      );

      // Signing (any member).
      const form = el('select', { testid: 'sign-form' }, SIGN_FORMS.map((f) => el('option', { value: f }, t(`signForm.${f}`))));
      const signBtn = el('button', { type: 'submit', class: 'primary', testid: 'sign-submit' }, t('sign.submit'));
      const signForm = el(
        'form',
        {
          class: 'card',
          on: {
            submit: (e) => {
              e.preventDefault();
              act(signBtn, async () => {
                const res = await api(negPath(N, '/sign'), { method: 'POST', body: { form: form.value } });
                renderInto(u.result, undefined, () =>
                  el(
                    'div',
                    { class: 'card ok-box', testid: 'sign-result' },
                    el('h3', {}, t('sign.done', { form: t(`signForm.${res.form}`) })),
                    el('ul', {}, res.signatures.map((x) => el('li', {}, langName(x.language), ' — ', el('span', { class: 'mono', dir: 'ltr' }, x.hash)))),
                  ),
                );
                refreshNegotiation();
              });
            },
          },
        },
        el('h2', {}, t('sign.heading')),
        el('p', { class: 'hint' }, t('sign.hint')),
        field(t('sign.form'), form),
        el('div', { class: 'actions' }, signBtn),
      );

      panel.append(
        u.context,
        el('h2', {}, t('silence.heading')),
        u.list,
        u.chair,
        u.adoption,
        u.objections,
        u.result,
        el('div', { class: 'columns' }, objectForm, signForm),
      );
    },

    async refresh(N) {
      const u = N.ui.silence;
      const r = currentRev(N);
      renderInto(u.context, JSON.stringify([S.lang, r && r.revision, r && r.label, canPen(N)]), () => revisionContext(N));
      renderInto(u.list, JSON.stringify([S.lang, N.silences, isChair(N)]), () => {
        if (!N.silences.length) return el('p', { class: 'empty' }, t('silence.none'));
        return [...N.silences].reverse().map((s) =>
          el(
            'article',
            { class: `card silence-item outcome-${s.outcome}`, testid: 'silence-item', 'data-silence': s.silence },
            el('h3', {}, t('silence.itemTitle', { label: s.label || short(s.revision) }), ' ', badge(t(`outcomeShort.${s.outcome}`), `outcome-badge outcome-${s.outcome}`)),
            el('p', {}, t('silence.deadline'), ' ', timeEl(s.deadline, s.deadline_utc), ' ', el('span', { class: 'muted mono', dir: 'ltr' }, s.deadline_utc)),
            el('p', { class: 'outcome', testid: 'silence-outcome' }, outcomeText(s)),
            el('p', {}, t('silence.receivedBy'), ' ', s.received_by.length ? s.received_by.join(', ') : t('silence.nobody')),
            s.not_received_by.length ? el('p', {}, t('silence.notReceivedBy'), ' ', s.not_received_by.join(', ')) : null,
            s.breaks.length
              ? el(
                  'table',
                  { class: 'data compact' },
                  el('caption', {}, t('silence.breaks')),
                  el('thead', {}, el('tr', {}, ['silence.col.who', 'silence.col.grounds', 'silence.col.time', 'silence.col.standing'].map((k) => el('th', { scope: 'col' }, t(k))))),
                  el('tbody', {}, s.breaks.map((x) => el('tr', {}, el('td', { dir: 'auto' }, x.name), el('td', {}, t(`grounds.${x.grounds}`)), el('td', { class: 'mono', dir: 'ltr' }, x.time_utc), el('td', {}, t(`standing.${x.standing}`))))),
                )
              : null,
            !s.closed && isChair(N)
              ? el('div', { class: 'actions' }, el('button', { type: 'button', 'data-fkey': `close:${s.silence}`, on: { click: (e) => act(e.currentTarget, () => closeSilence(N, s.silence)) } }, t('silence.close')))
              : null,
          ),
        );
      });
      renderSilenceChair(N);
      await renderObjections(N, r);
      renderInto(u.adoption, JSON.stringify([S.lang, r]), () => {
        if (!r) return null;
        const a = r.adoption;
        return el(
          'section',
          { class: 'card adoption-status', testid: 'adoption-status' },
          el('h2', {}, t('adoption.heading', { label: r.label })),
          a
            ? [
                el('p', {}, badge(t(`adoption.${a.status}`), `adoption-${a.status}`), ' ', el('span', { class: 'mono', dir: 'ltr' }, short(a.event))),
                a.signatures.length
                  ? el('ul', {}, a.signatures.map((x) => el('li', {}, t('adoption.signature', { name: x.name, lang: langName(x.language), form: t(`signForm.${x.form}`) }))))
                  : el('p', { class: 'muted' }, t('adoption.noSignatures')),
              ]
            : el('p', { class: 'muted' }, t('adoption.notYet')),
        );
      });
    },
  };

  /** Formal objections to the revision, from the log (the API has no list of its own). */
  async function renderObjections(N, r) {
    const u = N.ui.silence;
    if (!r) {
      renderInto(u.objections, 'none', () => null);
      return;
    }
    const log = await api(negPath(N, '/log'));
    if (S.N !== N) return;
    const byId = new Map(log.map((e) => [e.id, e]));
    const objections = log
      .filter((e) => e.kind === 'object' && e.body && e.body.revision === r.revision)
      .map((e) => {
        const ref = e.body.reference && byId.get(e.body.reference);
        return { id: e.id, name: e.name || short(e.delegation), time: e.time, included: e.included, reason: ref && ref.body ? ref.body.text : '' };
      });
    renderInto(u.objections, JSON.stringify([S.lang, r.label, objections]), () =>
      el(
        'section',
        { class: 'card', testid: 'objections' },
        el('h2', {}, t('object.listHeading', { label: r.label })),
        objections.length
          ? el(
              'ul',
              {},
              objections.map((o) =>
                el('li', { testid: 'objection', 'data-id': o.id }, el('strong', { dir: 'auto' }, o.name), ' · ', timeEl(o.time), o.reason ? [' — ', el('span', { dir: 'auto' }, o.reason)] : null, o.included ? null : [' ', badge(t('object.excluded'), 'muted-badge')]),
              ),
            )
          : el('p', { class: 'muted' }, t('object.none')),
      ),
    );
  }

  function renderSilenceChair(N) {
    const u = N.ui.silence;
    if (!isChair(N)) {
      u.chair.replaceChildren();
      u.chairBuilt = false;
      return;
    }
    if (u.chairBuilt) {
      if (!u.periodTouched) u.period.value = String(Math.max(1, Math.round((N.summary.silence_period_secs || 259200) / 3600)));
      return;
    }
    u.chairBuilt = true;
    u.period = el('input', { type: 'number', min: '0', step: 'any', testid: 'silence-period', dir: 'ltr', on: { input: () => { u.periodTouched = true; } } });
    u.period.value = String(Math.max(1, Math.round((N.summary.silence_period_secs || 259200) / 3600)));
    const unit = el('select', { testid: 'silence-unit' }, Object.keys(PERIOD_UNITS).map((k) => el('option', { value: k, selected: k === 'hours' }, t(`unit.${k}`))));
    const openBtn = el('button', { type: 'submit', class: 'primary', testid: 'silence-open' }, t('silence.open'));
    const openForm = el(
      'form',
      {
        class: 'card',
        on: {
          submit: (e) => {
            e.preventDefault();
            act(openBtn, async () => {
              if (!N.rev) throw new Error(t('text.noRevision'));
              const n = Number(u.period.value);
              if (!(n > 0)) throw new Error(t('error.required', { field: t('silence.period') }));
              const period_secs = Math.round(n * PERIOD_UNITS[unit.value]);
              const res = await api(negPath(N, '/silences'), { method: 'POST', body: { rev: N.rev, period_secs } });
              notify(t('silence.opened', { label: res.label, deadline: fmtTime(res.deadline) }));
              refreshNegotiation();
            });
          },
        },
      },
      el('h2', {}, t('silence.openHeading')),
      el('p', { class: 'hint' }, t('silence.openHint')),
      el('div', { class: 'inline-form' }, field(t('silence.period'), u.period), field(t('silence.unit'), unit)),
      el('div', { class: 'actions' }, openBtn),
    );
    const adoptBtn = el('button', { type: 'button', class: 'primary', testid: 'adopt-silence' }, t('adopt.onSilence'));
    const consensusBtn = el('button', { type: 'button', testid: 'adopt-consensus' }, t('adopt.consensus'));
    const adopt = async (consensus) => {
      if (!N.rev) throw new Error(t('text.noRevision'));
      const body = consensus ? { rev: N.rev, consensus: true } : { rev: N.rev };
      const res = await api(negPath(N, '/adopt'), { method: 'POST', body });
      renderInto(u.result, undefined, () =>
        el(
          'div',
          { class: 'card ok-box', testid: 'adopt-result' },
          el('h3', {}, t('adopt.done')),
          el('p', {}, res.silence ? t('adopt.onSilenceDone', { id: short(res.silence) }) : t('adopt.byConsensusDone')),
          el('p', { class: 'mono', dir: 'ltr' }, res.adoption),
        ),
      );
      refreshNegotiation();
    };
    adoptBtn.addEventListener('click', () => act(adoptBtn, () => adopt(false)));
    consensusBtn.addEventListener('click', () => act(consensusBtn, () => adopt(true)));
    const adoptBox = el('section', { class: 'card' }, el('h2', {}, t('adopt.heading')), el('p', { class: 'hint' }, t('adopt.hint')), el('div', { class: 'actions' }, adoptBtn, consensusBtn));
    u.chair.replaceChildren(el('div', { class: 'columns' }, openForm, adoptBox));
  }

  // ---------------------------------------------------------------------------------------------

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
