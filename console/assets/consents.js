// Consent manager pages: a patient's consents and their versions, each
// provision tree in words, create from a form or JSON, revoke.
import {h, put, api, problem, errorBox, field, fmtTime, toast, PURPOSES, TOPICS} from './ui.js';

const ROLE = 'ds4p/consent-manager';

const ACTIONS = {access: 'access', collect: 'collect', use: 'use', disclose: 'disclose', correct: 'correct'};

function codingName(c) {
  if (!c) return '';
  const code = c.code || '';
  return c.display || TOPICS[code] && `${TOPICS[code]} (${code})` || PURPOSES[code] && `${PURPOSES[code]} (${code})` || code;
}

function refName(r) {
  if (!r) return '';
  if (r.display) return `${r.display} (${r.reference || ''})`;
  if (r.reference) return r.reference;
  if (r.identifier) return `${r.identifier.system || ''}|${r.identifier.value || ''}`;
  return 'someone';
}

function period(p, what) {
  if (!p) return '';
  if (p.start && p.end) return ` ${what}from ${p.start} until ${p.end}`;
  if (p.end) return ` ${what}until ${p.end}`;
  if (p.start) return ` ${what}from ${p.start}`;
  return '';
}

/** sentence is one provision in words, without its exceptions. */
export function sentence(p, root) {
  const verb = p.type === 'permit' ? 'permits' : p.type === 'deny' ? 'forbids' : 'applies to';
  const actors = (p.actor || []).map(a => refName(a.reference)).filter(Boolean);
  const who = actors.length ? actors.join(' and ') : (root ? 'everyone' : 'anyone');
  const acts = (p.action || []).flatMap(a => (a.coding || []).map(c => ACTIONS[c.code] || c.code));
  const labels = (p.securityLabel || []).map(codingName);
  const classes = (p.class || []).map(c => c.code);
  const codes = (p.code || []).flatMap(cc => (cc.coding || []).map(codingName));
  const data = (p.data || []).map(d => `${d.reference && d.reference.reference} (${d.meaning})`);
  let what = 'all data';
  const kinds = [];
  if (labels.length) kinds.push(`${labels.join(', ')} data`);
  if (classes.length) kinds.push(`${classes.join(', ')} resources`);
  if (codes.length) kinds.push(`data coded ${codes.join(', ')}`);
  if (data.length) kinds.push(data.join(', '));
  if (kinds.length) what = kinds.join(' and ');
  const purposes = (p.purpose || []).map(codingName);
  return `${verb} ${who} to ${acts.length ? acts.join('/') : 'use'} ${what}` +
    (purposes.length ? ` for ${purposes.join(' or ')}` : '') +
    period(p.dataPeriod, 'about data dated ') + period(p.period, '');
}

/** provisionTree renders the tree: each exception under its parent. */
export function provisionTree(p, root = true) {
  if (!p) return h('p', {}, 'No provisions: the base rule (policyRule) decides.');
  const kids = p.provision || [];
  return h('li', {}, root ? h('strong', {}, 'This consent ') : '', sentence(p, root),
    kids.length ? [root ? ', except that it' : ', except that it', h('ul', {}, kids.map(k => provisionTree(k, false)))] : '.');
}

function rendered(c) {
  return h('ul', {class: 'provisions'}, c.provision ? provisionTree(c.provision) : h('li', {}, 'No provisions: the base rule (policyRule) decides.'));
}

function statusTag(s) {
  return h('span', {class: 'tag ' + (s === 'active' ? 'ok' : 'bad')}, s);
}

function consentCard(c, reload) {
  const hist = h('div', {});
  const id = c.id;
  return h('article', {class: 'card consent', 'aria-labelledby': `c-${id}`},
    h('h2', {id: `c-${id}`}, `Consent/${id} `, statusTag(c.status), h('span', {class: 'muted'}, ` version ${c.meta && c.meta.versionId}`)),
    h('p', {class: 'muted'}, `Patient ${c.patient && c.patient.reference} · dated ${c.dateTime || '—'} · policy rule ${
      (c.policyRule && (c.policyRule.coding || []).map(x => x.code).join(', ')) || '—'}` + period(c.provision && c.provision.period, ', in force ')),
    rendered(c),
    h('div', {class: 'actions'},
      h('button', {type: 'button', onclick: async () => {
        const r = await api('consent/history', {id});
        if (!r.ok) { put(hist, errorBox(problem(r))); return; }
        put(hist, h('h3', {}, 'Versions, newest first'), h('ol', {class: 'versions'}, (r.data.entry || []).map(e => {
          const v = e.resource;
          return h('li', {}, h('strong', {}, `version ${v.meta && v.meta.versionId}`), ' ', statusTag(v.status), ' ',
            h('span', {class: 'muted'}, fmtTime(v.meta && v.meta.lastUpdated)), rendered(v));
        })));
      }}, 'Versions'),
      c.status === 'active' ? h('button', {type: 'button', class: 'danger', 'aria-label': `Revoke consent ${id}`, onclick: async () => {
        if (!confirm(`Revoke Consent/${id}? It stops counting from the next request.`)) return;
        const r = await api('consent/revoke', {id});
        if (!r.ok) { toast(problem(r)); return; }
        toast(`Consent/${id} revoked`);
        reload();
      }}, 'Revoke') : null),
    hist,
    h('details', {}, h('summary', {}, 'FHIR JSON'), h('pre', {}, JSON.stringify(c, null, 2))));
}

function draft(f) {
  const v = id => f.querySelector('#' + id).value.trim();
  const permit = {type: 'permit', actor: [{
    role: {coding: [{system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP'}]},
    reference: {reference: v('n-actor')}}]};
  if (v('n-purpose')) permit.purpose = [{system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: v('n-purpose')}];
  if (v('n-topic')) permit.securityLabel = [{system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: v('n-topic')}];
  if (v('n-end')) permit.period = {start: new Date().toISOString().slice(0, 10), end: v('n-end')};
  if (v('n-except')) {
    permit.provision = [{type: 'deny', class: v('n-except').split(/[\s,]+/).filter(Boolean)
      .map(t => ({system: 'http://hl7.org/fhir/resource-types', code: t}))}];
  }
  return {
    resourceType: 'Consent', status: 'active',
    scope: {coding: [{system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy'}]},
    category: [{coding: [{system: 'http://loinc.org', code: '59284-0'}]}],
    patient: {reference: v('n-patient')},
    dateTime: new Date().toISOString().slice(0, 10),
    policyRule: {coding: [{system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: v('n-topic') === 'SUD' ? '42CFRPart2' : 'OPTIN'}]},
    provision: {type: 'deny', provision: [permit]},
  };
}

async function consentsPage(root) {
  const search = h('form', {class: 'card filters', 'aria-label': 'Find consents'},
    field('Patient', {id: 'c-patient', placeholder: 'Patient/pat-0', required: true}),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Show consents')));
  const list = h('div', {'aria-live': 'polite', id: 'consent-list'});
  const form = h('form', {class: 'card', 'aria-labelledby': 'new-h'},
    h('h2', {id: 'new-h'}, 'New consent'),
    h('div', {class: 'grid'},
      field('Patient', {id: 'n-patient', placeholder: 'Patient/pat-1', required: true}),
      field('Recipient organisation', {id: 'n-actor', placeholder: 'Organization/demo-clinic', required: true}),
      field('Purpose', {tag: 'select', id: 'n-purpose'}, h('option', {value: ''}, 'any purpose'),
        Object.entries(PURPOSES).map(([c, n]) => h('option', {value: c, selected: c === 'TREAT'}, `${n} (${c})`))),
      field('Sensitive data', {tag: 'select', id: 'n-topic'}, h('option', {value: ''}, 'all data'),
        ['SUD', 'PSY', 'MH', 'HIV', 'STD', 'SEX', 'SDV', 'GDIS'].map(c => h('option', {value: c, selected: c === 'SUD'}, `${TOPICS[c]} (${c})`))),
      field('Until (optional)', {id: 'n-end', type: 'date'}),
      field('Except resource types (optional)', {id: 'n-except', placeholder: 'DocumentReference'})),
    h('p', {class: 'muted', id: 'n-preview', 'aria-live': 'polite'}),
    field('Consent JSON (edit freely; this is what is sent)', {tag: 'textarea', id: 'n-json', rows: 10, spellcheck: 'false'}),
    h('div', {class: 'actions'},
      h('button', {type: 'button', id: 'n-fill'}, 'Fill JSON from the form'),
      h('button', {type: 'submit', class: 'primary'}, 'Create consent')),
    h('div', {id: 'n-result', 'aria-live': 'polite'}));
  root.append(search, list, form);
  let patient = '';
  async function load() {
    const r = await api('consent/search', {patient});
    if (!r.ok) { put(list, errorBox(problem(r))); return; }
    const cs = (r.data.entry || []).map(e => e.resource);
    put(list, cs.length ? h('div', {}, cs.map(c => consentCard(c, load))) : h('p', {}, `No consents for ${patient}.`));
  }
  search.addEventListener('submit', (ev) => { ev.preventDefault(); patient = search.querySelector('#c-patient').value.trim(); load(); });
  const fill = () => {
    const d = draft(form);
    form.querySelector('#n-json').value = JSON.stringify(d, null, 2);
    form.querySelector('#n-preview').replaceChildren('In words: ', h('ul', {class: 'provisions'}, provisionTree(d.provision)));
  };
  form.querySelector('#n-fill').addEventListener('click', fill);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const res = form.querySelector('#n-result');
    if (!form.querySelector('#n-json').value.trim()) fill();
    let body;
    try { body = JSON.parse(form.querySelector('#n-json').value); } catch (e) { put(res, errorBox('JSON: ' + e.message)); return; }
    const r = await api('consent/create', body);
    if (!r.ok) {
      const issues = r.data && r.data.issue ? r.data.issue.map(i => `${(i.expression || []).join(', ')} ${i.diagnostics || i.code}`) : [problem(r)];
      put(res, h('div', {class: 'error', role: 'alert'}, h('p', {}, 'Not stored:'), h('ul', {}, issues.map(x => h('li', {}, x)))));
      return;
    }
    put(res, h('p', {class: 'state ok'}, `Stored Consent/${r.data.id} version ${r.data.meta && r.data.meta.versionId}.`));
    patient = r.data.patient.reference;
    search.querySelector('#c-patient').value = patient;
    load();
  });
}

export const consentPages = [
  {id: 'consents', title: 'Consents', role: ROLE, render: consentsPage},
];
