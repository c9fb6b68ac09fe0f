// The console shell: sign-in, the menu of the signed-in roles, and the
// router (pages by location hash; no patient data ever goes in the URL).
import {h, put, api, setSession, getSession, onUnauthorized, hasRole, errorBox, markUse, lastUse} from './ui.js';
import {auditorPages} from './auditor.js';
import {compliancePages} from './compliance.js';
import {consentPages} from './consents.js';

const ROLE_NAMES = {
  'ds4p/auditor': 'Auditor',
  'ds4p/policy-author': 'Compliance',
  'ds4p/consent-manager': 'Consent manager',
};

const pages = [...auditorPages, ...compliancePages, ...consentPages];
const main = document.getElementById('main');
const nav = document.getElementById('nav');

function allowed() { return pages.filter(p => hasRole(p.role)); }

function renderNav(current) {
  put(nav);
  for (const role of Object.keys(ROLE_NAMES)) {
    const mine = allowed().filter(p => p.role === role);
    if (!mine.length) continue;
    nav.append(h('h2', {}, ROLE_NAMES[role]), h('ul', {},
      mine.map(p => h('li', {}, h('a', {href: '#/' + p.id, 'aria-current': p.id === current ? 'page' : null}, p.title)))));
  }
  nav.hidden = false;
}

async function route() {
  if (!getSession()) return;
  const id = location.hash.replace(/^#\//, '');
  const mine = allowed();
  const page = mine.find(p => p.id === id) || mine[0];
  if (!page) return;
  if (page.id !== id) { history.replaceState(null, '', '#/' + page.id); }
  renderNav(page.id);
  document.title = page.title + ' · ds4p console';
  const section = h('section', {'aria-labelledby': 'page-title', class: 'page page-' + page.id},
    h('h1', {id: 'page-title'}, page.title));
  put(main, section);
  try {
    await page.render(section);
  } catch (e) {
    section.append(errorBox('This page failed: ' + e.message));
  }
  main.focus({preventScroll: true});
}

// watch clears the page when the session ends on the server: after
// idle_timeout_s without a call (from any tab) or at its expiry. Until the
// next call the page would otherwise keep showing the patients' data it
// drew, on a screen left alone (HIPAA 164.312(a)(2)(iii) automatic logoff).
let watch = null;

function watchSession(s) {
  clearInterval(watch);
  markUse(); // the sign-in or session call that gave s
  const idleMs = (Number(s.idle_timeout_s) || 1800) * 1000;
  const ends = Date.now() + (Number.isFinite(s.expires_in_s) ? s.expires_in_s * 1000 : Date.parse(s.expires) - Date.now());
  watch = setInterval(() => {
    const now = Date.now();
    if (now - lastUse() >= idleMs) {
      showSignIn(`Your session ended after ${Math.round(idleMs / 60000)} minutes without use. Sign in again.`);
    } else if (!(now < ends)) {
      showSignIn('Your session ended: its token expired, or it reached the longest a session lasts. Sign in again.');
    }
  }, 1000);
}

function showSignIn(message) {
  clearInterval(watch);
  watch = null;
  setSession(null);
  const toast = document.getElementById('status');
  toast.textContent = '';
  toast.classList.remove('show');
  nav.hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  document.title = 'Sign in · ds4p console';
  const token = h('textarea', {id: 'token', name: 'token', rows: 5, required: true, autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': 'token-hint'});
  const err = h('div', {'aria-live': 'assertive'});
  const form = h('form', {class: 'card signin', onsubmit: async (ev) => {
    ev.preventDefault();
    put(err);
    const resp = await fetch('/console/api/login', {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify({token: token.value})});
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) { err.append(errorBox(data.error || 'Sign-in failed')); token.focus(); return; }
    token.value = '';
    tellTabs('signed-in');
    signedIn(data);
  }},
  h('h1', {id: 'page-title'}, 'Sign in'),
  message ? errorBox(message) : null,
  h('label', {for: 'token'}, 'Admin bearer token'),
  token,
  h('small', {id: 'token-hint'}, 'A token with at least one of the roles ds4p/auditor, ds4p/policy-author, ds4p/consent-manager (',
    h('code', {}, 'ds4p token --scope ds4p/auditor …'), ' or the tokens ', h('code', {}, 'ds4p demo'),
    ' prints). The token stays on the server; this browser gets a session cookie that ends after 30 minutes without use.'),
  err,
  h('button', {type: 'submit', class: 'primary'}, 'Sign in'));
  put(main, form);
  token.focus();
}

function signedIn(s) {
  setSession(s);
  watchSession(s);
  document.getElementById('who').textContent =
    `${s.subject} · ${s.roles.map(r => ROLE_NAMES[r] || r).join(', ')}`;
  document.getElementById('signout').hidden = false;
  route();
}

document.getElementById('signout').addEventListener('click', async () => {
  const resp = await fetch('/console/api/logout', {method: 'POST', credentials: 'same-origin',
    headers: {'X-CSRF-Token': getSession() ? getSession().csrf : ''}}).catch(() => null);
  if (!resp || !resp.ok) {
    // The session may still be live on the server: showing the sign-in
    // form would tell the user they were signed out when they were not.
    const data = resp ? await resp.json().catch(() => ({})) : {};
    main.prepend(errorBox('Sign-out failed' + (data.error ? ': ' + data.error : (resp ? ` (HTTP ${resp.status})` : ': the server could not be reached')) +
      '. You are still signed in; try again, or close the browser.'));
    return;
  }
  history.replaceState(null, '', '#/');
  tellTabs('signed-out');
  showSignIn();
});

// The console's tabs share one session (one cookie): a sign-out in one
// ends it in all, and a sign-in in one replaces it in all. The other tabs
// learn it at once (a storage event; the value names the event, nothing
// else) instead of keeping the last user's data on screen until their next
// call or the idle timeout.
const TABS_KEY = 'ds4p-console-session';

function tellTabs(what) {
  try { localStorage.setItem(TABS_KEY, `${what} ${Date.now()}`); } catch { /* storage off */ }
}

window.addEventListener('storage', async (ev) => {
  if (ev.key !== TABS_KEY || !ev.newValue) return;
  if (ev.newValue.startsWith('signed-out')) {
    if (getSession()) showSignIn('You signed out in another tab.');
    return;
  }
  // Signed in in another tab: this tab shows that session, or none.
  const resp = await fetch('/console/api/session', {credentials: 'same-origin'}).catch(() => null);
  if (resp && resp.ok) signedIn(await resp.json());
  else showSignIn('The session changed in another tab. Sign in again.');
});

onUnauthorized(showSignIn);
window.addEventListener('hashchange', route);

(async () => {
  const resp = await fetch('/console/api/session', {credentials: 'same-origin'});
  if (resp.ok) signedIn(await resp.json());
  else showSignIn();
})();
