// Shared helpers: element building (text only, never HTML strings, so no
// value from the server is ever parsed as markup), the console API client
// and small formatters.

/** h builds an element: h('p', {class: 'x'}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

let session = null;
let onSignedOut = () => {};

// The server ends a session idle_timeout_s after its last call; the page
// clears what it shows then (app.js). The time of the last call is shared
// with the console's other tabs (a timestamp, nothing else), since a call
// from any of them keeps the session.
const USE_KEY = 'ds4p-console-last-use';
let lastCall = 0;

/** markUse records a call to the server now. */
export function markUse() {
  lastCall = Date.now();
  try { localStorage.setItem(USE_KEY, String(lastCall)); } catch { /* storage off: this tab's own calls */ }
}

/** lastUse is when this tab or another last called the server. */
export function lastUse() {
  let shared = 0;
  try { shared = Number(localStorage.getItem(USE_KEY)) || 0; } catch { /* storage off */ }
  return Math.max(lastCall, shared);
}

export function setSession(s) { session = s; }
export function getSession() { return session; }
export function onUnauthorized(fn) { onSignedOut = fn; }
export function hasRole(role) { return !!session && session.roles.includes(role); }

/**
 * api calls POST /console/api/PATH with a JSON body and the CSRF token.
 * It resolves to {ok, status, data (parsed JSON or null), text, type}.
 */
export async function api(path, body = {}, raw = false) {
  // Before the call: the server counts it when it arrives.
  if (session) markUse();
  const resp = await fetch('/console/api/' + path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': session ? session.csrf : ''},
    body: raw ? body : JSON.stringify(body),
  });
  const text = await resp.text();
  const type = resp.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (resp.status === 401) onSignedOut('Your session ended. Sign in again.');
  return {ok: resp.ok, status: resp.status, data, text, type, prunedThrough: resp.headers.get('X-DS4P-Pruned-Through') || ''};
}

/** problem turns a failed answer into a readable sentence. */
export function problem(r) {
  if (r.data && r.data.error) return r.data.error;
  if (r.data && r.data.resourceType === 'OperationOutcome') {
    return (r.data.issue || []).map(i => i.diagnostics || (i.details && i.details.text) || i.code).join('; ');
  }
  return `HTTP ${r.status}`;
}

/** errorBox is an alert paragraph. */
export function errorBox(msg) {
  return h('p', {class: 'error', role: 'alert'}, msg);
}

/**
 * field is a labelled input. Its values (patient ids, queries, consents)
 * stay out of the browser's form history, which offers them to the next
 * user of the profile: autocomplete is off unless attrs say otherwise.
 */
export function field(label, attrs, ...children) {
  const id = attrs.id || ('f-' + label.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
  const input = h(attrs.tag || 'input', {autocomplete: 'off', ...attrs, tag: null, hint: null, id, name: attrs.name || id,
    'aria-describedby': attrs.hint ? id + '-hint' : null}, ...children);
  if (attrs.hint) return h('div', {class: 'field'}, h('label', {for: id}, label), input, h('small', {id: id + '-hint'}, attrs.hint));
  return h('div', {class: 'field'}, h('label', {for: id}, label), input);
}

export function fmtTime(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/:00Z$/, 'Z');
}

/** labelCode is the code of a "system|code" label. */
export function labelCode(l) {
  const i = l.lastIndexOf('|');
  return i < 0 ? l : l.slice(i + 1);
}

export function toast(msg) {
  const el = document.getElementById('status');
  el.textContent = msg;
  el.classList.add('show');
  clearTimeout(toast.t);
  toast.t = setTimeout(() => el.classList.remove('show'), 4000);
}

/** download saves text as a file. */
export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], {type}));
  const a = h('a', {href: url, download: name, hidden: true});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** table builds a data table with a caption. */
export function table(caption, headers, rows, attrs = {}) {
  return h('table', attrs,
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map(x => h('th', {scope: 'col'}, x)))),
    h('tbody', {}, rows));
}

export const PURPOSES = {
  TREAT: 'treatment', ETREAT: 'emergency treatment', HPAYMT: 'payment', HOPERAT: 'health care operations',
  PUBHLTH: 'public health', HRESCH: 'research', PATRQT: 'patient request', COVERAGE: 'coverage',
  HLEGAL: 'legal', BTG: 'break the glass',
};

export const TOPICS = {
  SUD: 'substance use disorder', ETHUD: 'alcohol use disorder', OPIOIDUD: 'opioid use disorder',
  PSY: 'psychiatry', PSYTHPN: 'psychotherapy notes', MH: 'mental health', HIV: 'HIV/AIDS',
  STD: 'sexually transmitted disease', SEX: 'sexuality and reproductive health', SDV: 'sexual and domestic violence',
  GDIS: 'genetic disease', R: 'restricted', V: 'very restricted', N: 'normal',
  '42CFRPart2': '42 CFR Part 2', NORDSCLCD: 'no redisclosure without consent',
};

/** put replaces el's children, skipping null, false and empty strings. */
export function put(el, ...kids) {
  el.replaceChildren(...kids.flat(Infinity).filter(k => k != null && k !== false && k !== ''));
}
