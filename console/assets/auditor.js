// Auditor pages: ledger search and one disclosure, accounting of
// disclosures, break-the-glass review, bulk-access alerts, chain
// verification, charts.
import {h, put, api, problem, errorBox, field, fmtTime, labelCode, toast, download, table, PURPOSES} from './ui.js';
import {stackedBars} from './charts.js';

const ROLE = 'ds4p/auditor';

function purposeSelect(id) {
  return field('Purpose of use', {tag: 'select', id},
    h('option', {value: ''}, 'any'),
    Object.entries(PURPOSES).map(([c, n]) => h('option', {value: c}, `${c} (${n})`)));
}

function items(list) {
  if (!list || !list.length) return h('p', {class: 'muted'}, 'none');
  return h('ul', {class: 'items'}, list.map(it => h('li', {},
    h('code', {}, `${it.type}/${it.id}` + (it.version ? `/_history/${it.version}` : '')), ' ',
    (it.labels || []).map(l => h('span', {class: 'tag'}, labelCode(l))),
    it.reasons && it.reasons.length ? [' ', h('span', {class: 'muted'}, `withheld by ${it.reasons.join(', ')}`)] : [])));
}

function who(c) {
  return [c.subject, c.org].filter(Boolean).join(' · ');
}

/** detail renders one ledger entry: what left, what did not, and why. */
function detail(e) {
  const dl = (pairs) => h('dl', {class: 'kv'}, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  return h('article', {class: 'card detail', 'aria-labelledby': 'detail-title', tabindex: '-1', id: 'detail'},
    h('h2', {id: 'detail-title'}, `Disclosure #${e.seq}`),
    dl([
      ['Time', fmtTime(e.time)], ['Request id', h('code', {}, e.request_id)], ['Patient', e.patient || '—'],
      ['Recipient', who(e.caller)], ['Client', e.caller.client || '—'],
      ['Purposes', (e.purposes || []).join(', ') || 'none stated'],
      ['Interaction', `${e.interaction} ${e.query || ''}`],
      ['Policy revision', h('code', {}, e.policy_revision || '—')],
      ['Label rules revision', h('code', {}, e.rules_revision || '— (recorded before ds4p named it)')],
      ['Consents relied on', (e.consents || []).length
        ? (e.consents).map(c => h('span', {class: 'tag'}, `Consent/${c.id} v${c.version}`)) : 'none'],
      ['Break the glass', e.break_glass
        ? `${e.break_glass.reason} (recipient ${e.break_glass.recipient || e.caller.subject}, ${e.break_glass.affiliation || e.caller.org})`
        : 'no'],
    ]),
    h('div', {class: 'cols3'},
      h('section', {}, h('h3', {}, `Disclosed (${(e.disclosed || []).length})`), items(e.disclosed)),
      h('section', {}, h('h3', {}, `Withheld (${(e.withheld || []).length})`), items(e.withheld)),
      h('section', {}, h('h3', {}, `Redacted in part (${(e.redacted || []).length})`), items(e.redacted))),
    h('details', {}, h('summary', {}, 'Chain'),
      dl([['Previous hash', h('code', {}, e.prev_hash)], ['Hash', h('code', {}, e.hash)]])));
}

async function ledgerPage(root) {
  const form = h('form', {class: 'card filters', 'aria-label': 'Ledger filters'},
    field('Patient', {id: 'q-patient', placeholder: 'Patient/pat-0'}),
    field('Recipient', {id: 'q-recipient', placeholder: 'Organization/demo-clinic'}),
    purposeSelect('q-purpose'),
    field('From', {id: 'q-from', type: 'date'}),
    field('To (exclusive)', {id: 'q-to', type: 'date'}),
    field('Page size', {id: 'q-limit', type: 'number', min: 1, max: 1000, value: 50}),
    h('div', {class: 'field check'}, h('input', {type: 'checkbox', id: 'q-bg'}), h('label', {for: 'q-bg'}, 'Break the glass only')),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Search')));
  const out = h('div', {'aria-live': 'polite'});
  const detailBox = h('div');
  root.append(form, out, detailBox);
  const cursors = [''];
  let page = 0;
  const val = id => form.querySelector('#' + id).value.trim();
  async function load() {
    const t0 = performance.now();
    const r = await api('audit/search', {
      patient: val('q-patient'), recipient: val('q-recipient'), purpose: val('q-purpose'),
      from: val('q-from'), to: val('q-to'), break_glass: form.querySelector('#q-bg').checked,
      limit: Number(val('q-limit')) || 50, cursor: cursors[page],
    });
    const t1 = performance.now();
    if (!r.ok) { put(out, errorBox(problem(r))); return; }
    const entries = r.data.entries;
    if (r.data.next) cursors[page + 1] = r.data.next;
    const rows = entries.map(e => h('tr', {},
      h('td', {}, fmtTime(e.time)), h('td', {class: 'num'}, e.seq), h('td', {}, e.patient),
      h('td', {}, who(e.caller)), h('td', {}, (e.purposes || []).join(' ')), h('td', {}, e.interaction),
      h('td', {class: 'num'}, e.disclosed.length), h('td', {class: 'num'}, e.withheld.length),
      h('td', {class: 'num'}, e.redacted.length),
      h('td', {}, e.break_glass ? h('span', {class: 'tag warn'}, 'break glass') : ''),
      h('td', {}, h('button', {type: 'button', class: 'link', onclick: () => {
        put(detailBox, detail(e));
        detailBox.querySelector('#detail').focus();
      }, 'aria-label': `Open disclosure ${e.seq}`}, 'Open'))));
    const nav = h('div', {class: 'pager'},
      h('button', {type: 'button', disabled: page === 0, onclick: () => { page--; load(); }}, '← Previous page'),
      h('span', {}, `Page ${page + 1} · ${entries.length} entries`),
      h('button', {type: 'button', disabled: !r.data.next, onclick: () => { page++; load(); }}, 'Next page →'));
    put(out, 
      table('Ledger entries, oldest first', ['Time', 'Seq', 'Patient', 'Recipient', 'Purpose', 'Interaction',
        'Disclosed', 'Withheld', 'Redacted', '', ''], rows, {class: 'data', id: 'ledger-results'}),
      entries.length ? nav : h('p', {}, 'No entries match.'),
      r.data.pruned ? h('p', {class: 'error', role: 'note', id: 'ledger-pruned'},
        `The entries until ${fmtTime(r.data.pruned.through)} (through seq ${r.data.pruned.through_seq}) were pruned `,
        r.data.pruned.relied_on === false
          ? `from the ledger, but the prune checkpoint is not relied on (${r.data.pruned.why}): verify the ledger against the prune exports; they are not in these pages.`
          : `from the ledger into export files${r.data.pruned.export ? ` (the last one ${r.data.pruned.export})` : ''}: they are not in these pages.`) : null);
    const t2 = performance.now();
    const timing = h('p', {class: 'muted timing', id: 'ledger-timing'},
      `Fetched in ${(t1 - t0).toFixed(0)} ms, drawn in ${(t2 - t1).toFixed(0)} ms.`);
    out.append(timing);
    // On screen: the frame after this one has been laid out and painted.
    requestAnimationFrame(() => setTimeout(() => { timing.dataset.shownMs = (performance.now() - t0).toFixed(0); }));
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); cursors.length = 1; page = 0; put(detailBox); load(); });
  await load();
}

async function accountingPage(root) {
  const form = h('form', {class: 'card filters no-print', 'aria-label': 'Accounting of disclosures'},
    field('Patient', {id: 'a-patient', placeholder: 'Patient/pat-0', required: true}),
    field('From', {id: 'a-from', type: 'date'}),
    field('To (exclusive)', {id: 'a-to', type: 'date'}),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Produce report')));
  const out = h('div', {'aria-live': 'polite'});
  root.append(h('p', {class: 'no-print'}, 'The accounting of disclosures of one patient (42 CFR 2.24, 45 CFR 164.528): every disclosure, oldest first.'), form, out);
  const q = () => ({patient: form.querySelector('#a-patient').value.trim(), from: form.querySelector('#a-from').value,
    to: form.querySelector('#a-to').value});
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await api('audit/accounting', {...q(), format: 'json'});
    if (!r.ok) { put(out, errorBox(problem(r))); return; }
    const d = r.data;
    const file = d.patient.replace(/[^A-Za-z0-9-]+/g, '-');
    const get = async (format, name, type) => {
      const x = await api('audit/accounting', {...q(), format});
      if (!x.ok) { toast(problem(x)); return; }
      download(name, type, x.text);
      // A CSV or FHIR file says nothing of pruned entries: only this header does.
      toast(x.prunedThrough
        ? `Downloaded ${name}. It does not list the disclosures until ${fmtTime(x.prunedThrough)}: they were pruned into the ledger's export files`
        : `Downloaded ${name}`);
    };
    put(out, h('article', {class: 'report', id: 'report'},
      h('h2', {}, `Accounting of disclosures: ${d.patient}`),
      h('p', {}, `Period: ${d.from ? fmtTime(d.from) : 'the beginning of the ledger'} to ${d.to ? fmtTime(d.to) : 'now'}. `,
        `Produced ${fmtTime(new Date().toISOString())}. ${d.disclosures.length} disclosures.`),
      d.pruned ? h('p', {class: 'error', role: 'note', id: 'report-pruned'},
        `Incomplete: the disclosures until ${fmtTime(d.pruned.through)} (ledger entries through seq ${d.pruned.through_seq}) `,
        `were pruned from the ledger into export files${d.pruned.export ? ` (the last one ${d.pruned.export})` : ''} and are not listed here.`) : null,
      h('div', {class: 'actions no-print'},
        h('button', {type: 'button', onclick: () => window.print()}, 'Print'),
        h('button', {type: 'button', onclick: () => get('csv', `accounting-${file}.csv`, 'text/csv')}, 'Download CSV'),
        h('button', {type: 'button', onclick: () => get('fhir', `accounting-${file}.json`, 'application/fhir+json')},
          'Download FHIR AuditEvent Bundle')),
      table('Disclosures', ['Date', 'Recipient', 'Organisation', 'Purpose', 'Description', 'Resources disclosed'],
        d.disclosures.map(x => h('tr', {},
          h('td', {}, fmtTime(x.date)),
          h('td', {}, x.recipient.name || x.recipient.subject, x.recipient.address ? h('br') : null, x.recipient.address || ''),
          h('td', {}, x.recipient.organization || ''),
          h('td', {}, (x.purposes || []).join(', ')),
          h('td', {}, x.description, x.break_glass ? h('span', {class: 'tag warn'}, 'break glass') : ''),
          h('td', {class: 'refs'}, (x.disclosed || []).map(it => `${it.type}/${it.id}` + (it.version ? `/_history/${it.version}` : '')).join(' ')))), {class: 'data'})));
  });
}

async function breakGlassPage(root) {
  const only = h('input', {type: 'checkbox', id: 'bg-unreviewed', checked: true});
  const out = h('div', {'aria-live': 'polite'});
  root.append(h('p', {}, 'Every break-the-glass disclosure (42 CFR 2.51) must be reviewed. Marking one records your review, ',
    'append-only, with the entry\'s hash.'),
  h('div', {class: 'field check'}, only, h('label', {for: 'bg-unreviewed'}, 'Show only disclosures not yet reviewed')), out);
  let cursor = '';
  async function load() {
    const r = await api('audit/breakglass', {unreviewed: only.checked, cursor, limit: 50});
    if (!r.ok) { put(out, errorBox(problem(r))); return; }
    const rows = r.data.entries.map(e => {
      const note = h('input', {type: 'text', id: `note-${e.seq}`, 'aria-label': `Review note for disclosure ${e.seq}`,
        placeholder: 'finding (optional)', maxlength: 4096, autocomplete: 'off'});
      const cell = h('td', {});
      const state = () => e.reviews.length
        ? put(cell, h('span', {class: 'tag ok'}, 'reviewed'), ' ',
          e.reviews.map(x => `${x.reviewer} ${fmtTime(x.time)}${x.note ? ': ' + x.note : ''}`).join('; '))
        : put(cell, note, h('button', {type: 'button', onclick: async () => {
          const x = await api('audit/review', {seq: e.seq, hash: e.hash, note: note.value});
          if (!x.ok) { toast(problem(x)); return; }
          e.reviews.push(x.data);
          state();
          toast(`Disclosure ${e.seq} marked as reviewed`);
        }}, 'Mark reviewed'));
      state();
      return h('tr', {}, h('td', {}, fmtTime(e.time)), h('td', {class: 'num'}, e.seq), h('td', {}, e.patient),
        h('td', {}, who(e.caller)), h('td', {}, e.break_glass.reason),
        h('td', {class: 'num'}, e.disclosed.length), cell);
    });
    put(out, 
      table('Break-the-glass disclosures', ['Time', 'Seq', 'Patient', 'Recipient', 'Emergency reason', 'Disclosed', 'Review'],
        rows, {class: 'data', id: 'bg-queue'}),
      rows.length ? null : h('p', {}, 'Nothing to review.'),
      r.data.next ? h('button', {type: 'button', onclick: () => { cursor = r.data.next; load(); }}, 'Next page →') : null);
  }
  only.addEventListener('change', () => { cursor = ''; load(); });
  await load();
}

const ALERT_KINDS = {
  bulk_patients: (a) => `${a.count} distinct patients touched`,
  bulk_withheld: (a) => `${a.count} sensitive items withheld`,
};

/** crossed says which threshold an alert's caller went over, and in what window. */
function crossed(a) {
  const what = (ALERT_KINDS[a.kind] || ((x) => `${x.count} (${x.kind})`))(a);
  return `${what} within ${a.window}; the limit is ${a.threshold}`;
}

async function alertsPage(root) {
  const all = h('input', {type: 'checkbox', id: 'al-all'});
  const out = h('div', {'aria-live': 'polite'});
  root.append(h('p', {}, 'Bulk-access alerts: a caller that touched more distinct patients, or had more sensitive items ',
    'withheld, than the configured limit within the window. A blocking alert refuses every request of that caller ',
    'until it is cleared here. Clearing records your name; alerts name callers, never patients.'),
  h('div', {class: 'field check'}, all, h('label', {for: 'al-all'}, 'Show cleared alerts too')), out);
  async function load() {
    const r = await api('audit/alerts', {all: all.checked});
    if (!r.ok) { put(out, errorBox(problem(r))); return; }
    const rows = r.data.alerts.map(a => {
      const cell = h('td', {});
      const blocked = h('td', {class: 'nowrap'});
      const state = () => {
        put(blocked, a.status === 'open' && a.blocking ? h('span', {class: 'tag bad'}, 'blocked')
          : h('span', {class: 'tag'}, a.blocking ? 'was blocked' : 'not blocked'));
        if (a.status === 'open') {
          put(cell, h('button', {type: 'button', class: 'danger', 'aria-label': `Clear alert ${a.id} of ${a.subject || a.client}`,
            onclick: async (ev) => {
              const button = ev.currentTarget;
              button.disabled = true;
              const x = await api('audit/alerts/clear', {id: a.id});
              if (!x.ok) { button.disabled = false; button.focus(); toast(problem(x)); return; }
              Object.assign(a, x.data);
              state();
              cell.firstChild.focus();
              toast(`Alert ${a.id} cleared` + (x.data.blocking ? `; ${a.subject || a.client} is no longer blocked` : ''));
            }}, 'Clear'));
        } else {
          put(cell, h('span', {tabindex: '-1'}, h('span', {class: 'tag ok'}, 'cleared'), ' ',
            `by ${a.cleared_by || 'unknown'} ${fmtTime(a.cleared_at)}`));
        }
      };
      state();
      return h('tr', {}, h('td', {}, fmtTime(a.raised_at)), h('td', {}, a.subject || '—'), h('td', {}, a.client || '—'),
        h('td', {}, a.org || '—'), h('td', {}, crossed(a)), blocked, h('td', {}, h('code', {}, a.id)), cell);
    });
    put(out,
      table(all.checked ? 'Alerts, newest first' : 'Open alerts, newest first',
        ['Raised', 'Caller', 'Client', 'Organisation', 'Threshold crossed', 'Blocked', 'Alert id', 'Action'],
        rows, {class: 'data', id: 'alerts'}),
      rows.length ? null : h('p', {}, all.checked ? 'No alerts.' : 'No open alerts.'));
  }
  all.addEventListener('change', load);
  await load();
}

async function verifyPage(root) {
  const out = h('div', {'aria-live': 'polite'});
  const run = h('button', {type: 'button', class: 'primary', id: 'verify-run'}, 'Verify the chain now');
  root.append(h('p', {}, 'Recomputes every entry\'s hash and link, and checks the indexes and the head.'), run, out);
  let timer = null;
  async function load(start) {
    const r = await api('audit/verify', {run: !!start});
    if (!r.ok) { put(out, errorBox(problem(r))); return; }
    const v = r.data.verification;
    let status;
    if (v.running) status = h('p', {class: 'tag'}, `Verifying… started ${fmtTime(v.started)}`);
    else if (v.ok === true) status = h('p', {class: 'state ok', id: 'verify-state'}, `Intact: ${v.verified} entries verified (${fmtTime(v.finished)}, ${v.seconds.toFixed(2)} s).`);
    else if (v.ok === false) status = h('p', {class: 'state bad', id: 'verify-state', role: 'alert'}, `Broken: ${v.broken}`);
    else status = h('p', {class: 'state', id: 'verify-state'}, 'Not verified since the proxy started.');
    put(out, status, r.data.head ? h('dl', {class: 'kv'},
      h('dt', {}, 'Head seq'), h('dd', {}, r.data.head.seq),
      h('dt', {}, 'Head hash'), h('dd', {}, h('code', {}, r.data.head.hash))) : null,
    r.data.head ? h('p', {class: 'muted'}, 'Record the head outside this host: ', h('code', {}, 'ds4p audit verify --head SEQ:HASH'),
      ' then detects a file rewritten into a new, consistent chain.') : null);
    run.disabled = v.running;
    clearTimeout(timer);
    if (v.running) timer = setTimeout(() => root.isConnected && load(false), 500);
  }
  run.addEventListener('click', () => load(true));
  await load(false);
}

async function chartsPage(root) {
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 29 * 864e5).toISOString().slice(0, 10);
  const form = h('form', {class: 'card filters', 'aria-label': 'Chart range'},
    field('From', {id: 'c-from', type: 'date', value: monthAgo}),
    field('To', {id: 'c-to', type: 'date', value: today}),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Show')));
  const out = h('div', {'aria-live': 'polite'});
  root.append(form, out);
  async function load() {
    const r = await api('audit/stats', {from: form.querySelector('#c-from').value, to: form.querySelector('#c-to').value});
    if (!r.ok) { put(out, errorBox(problem(r))); return; }
    const d = r.data;
    put(out, 
      h('p', {class: 'muted'}, `${d.entries_counted} ledger entries counted` + (d.complete ? '.' : ' so far (still counting).')),
      h('div', {class: 'charts'},
        stackedBars('Disclosures by purpose (entries that disclosed something)', d.days, d.disclosed_by_purpose),
        stackedBars('Denials by purpose (entries that withheld something)', d.days, d.withheld_by_purpose),
        stackedBars('Resources disclosed by sensitivity topic', d.days, d.disclosed_by_topic),
        stackedBars('Resources withheld by sensitivity topic', d.days, d.withheld_by_topic)));
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  await load();
}

export const auditorPages = [
  {id: 'ledger', title: 'Ledger search', role: ROLE, render: ledgerPage},
  {id: 'accounting', title: 'Accounting of disclosures', role: ROLE, render: accountingPage},
  {id: 'breakglass', title: 'Break-the-glass review', role: ROLE, render: breakGlassPage},
  {id: 'alerts', title: 'Alerts', role: ROLE, render: alertsPage},
  {id: 'verify', title: 'Chain verification', role: ROLE, render: verifyPage},
  {id: 'charts', title: 'Disclosure charts', role: ROLE, render: chartsPage},
];
