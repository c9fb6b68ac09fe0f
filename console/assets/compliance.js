// Compliance pages: the policy in force and its Rego tests, the decision
// simulator, the label rules by topic.
import {h, put, api, problem, errorBox, field, fmtTime, labelCode, table, PURPOSES, TOPICS} from './ui.js';

const ROLE = 'ds4p/policy-author';

async function policyPage(root) {
  const status = h('div', {'aria-live': 'polite'});
  const tests = h('div', {'aria-live': 'polite'});
  root.append(h('section', {class: 'card'}, h('h2', {}, 'Policy in force'), status),
    h('section', {class: 'card'}, h('h2', {}, 'Rego test results'), tests));
  const r = await api('policy/status');
  if (!r.ok) status.append(errorBox(problem(r)));
  else {
    const p = r.data;
    status.append(h('dl', {class: 'kv'},
      h('dt', {}, 'Revision'), h('dd', {}, h('code', {id: 'policy-revision'}, p.revision)),
      h('dt', {}, 'Source'), h('dd', {}, p.source || '—'),
      h('dt', {}, 'Label rules revision'), h('dd', {}, h('code', {id: 'label-rules-revision'}, p.label_rules_revision || '—')),
      h('dt', {}, 'Last (re)load'), h('dd', {}, fmtTime(p.loaded_at) || '—'),
      h('dt', {}, 'Rejected revision'), h('dd', {}, p.rejected
        ? h('div', {class: 'error', role: 'alert'}, h('p', {}, `${p.rejected.revision} at ${fmtTime(p.rejected.at)} (the revision above keeps serving):`),
          h('pre', {}, p.rejected.error))
        : 'none: the last load succeeded')));
  }
  tests.append(h('p', {class: 'muted'}, 'Running the policy\'s Rego tests…'));
  const t = await api('policy/tests');
  if (!t.ok) { put(tests, errorBox(problem(t))); return; }
  const d = t.data;
  if (!d.available) { put(tests, h('p', {}, d.reason)); return; }
  if (d.error) { put(tests, errorBox(d.error)); return; }
  const failed = (d.tests || []).filter(x => !x.pass);
  // No test run is not a passing policy.
  const ok = !failed.length && (d.tests || []).length > 0;
  if (!(d.tests || []).length) { put(tests, errorBox('No Rego test ran for this policy revision.')); return; }
  put(tests, 
    h('p', {class: ok ? 'state ok' : 'state bad', id: 'test-summary'},
      `${d.passed} passed, ${d.failed} failed (revision ${d.revision}, run ${fmtTime(d.ran_at)} in ${d.seconds.toFixed(1)} s).`),
    failed.length ? table('Failing tests', ['Package', 'Test', 'Error'],
      failed.map(x => h('tr', {}, h('td', {}, x.package), h('td', {}, x.name), h('td', {}, x.error || 'failed'))), {class: 'data'}) : null,
    h('details', {}, h('summary', {}, `All ${d.tests.length} tests`),
      table('Rego tests', ['Package', 'Test', 'Result'],
        d.tests.map(x => h('tr', {}, h('td', {}, x.package), h('td', {}, x.name),
          h('td', {}, x.pass ? h('span', {class: 'tag ok'}, 'pass') : h('span', {class: 'tag bad'}, 'fail')))), {class: 'data small'})));
}

function effectTag(effect) {
  const cls = {permit: 'ok', deny: 'bad', redact: 'warn'}[effect] || '';
  return h('span', {class: 'tag ' + cls}, effect);
}

function explain(dec) {
  return h('ul', {class: 'reasons'},
    (dec.reasons || []).map(r => h('li', {},
      h('code', {}, r.rule), r.message ? ` — ${r.message}` : '',
      r.consent ? h('span', {class: 'tag'}, `Consent/${r.consent}` + (r.version ? ` v${r.version}` : '') + (r.provision ? ` ${r.provision}` : '')) : '',
      (r.labels || []).map(l => h('span', {class: 'tag'}, labelCode(l))))),
    dec.redact && dec.redact.length ? h('li', {}, 'Elements removed: ', dec.redact.map(labelCode).join(', ')) : null,
    dec.obligations && dec.obligations.length ? h('li', {}, 'Labels added: ', dec.obligations.map(labelCode).join(', ')) : null,
    dec.break_glass ? h('li', {}, 'Disclosed only because of the emergency claim (break the glass)') : null);
}

async function simulatorPage(root) {
  const purposes = h('select', {id: 's-purpose', multiple: true, size: 4, 'aria-describedby': 's-purpose-hint'},
    Object.entries(PURPOSES).map(([c, n]) => h('option', {value: c, selected: c === 'TREAT'}, `${c} (${n})`)));
  const form = h('form', {class: 'card sim', 'aria-label': 'Simulated request'},
    h('fieldset', {}, h('legend', {}, 'Caller'),
      field('Organisation', {id: 's-org', value: 'Organization/demo-clinic', required: true}),
      field('Subject', {id: 's-subject', value: 'Practitioner/simulated'}),
      h('div', {class: 'field'}, h('label', {for: 's-purpose'}, 'Purposes of use'), purposes,
        h('small', {id: 's-purpose-hint'}, 'Ctrl-click or Shift-arrows for several; none selected: no purpose stated.')),
      field('Scopes', {id: 's-scopes', value: 'user/*.read'}),
      field('Break-the-glass reason', {id: 's-bg', placeholder: 'empty: no emergency claim'}),
      field('Signed-in user (fhirUser)', {id: 's-fhiruser', placeholder: 'empty: not a patient app',
        hint: 'Patient/pat-0 with purpose PATRQT: the patient reading their own record (right of access)'})),
    h('fieldset', {}, h('legend', {}, 'Data'),
      field('Patient', {id: 's-patient', value: 'Patient/pat-0', required: true}),
      field('Query (optional)', {id: 's-query', value: 'Patient/pat-0/$everything',
        hint: 'A FHIR read or search below the base, fetched from the FHIR server: Condition?subject=Patient/pat-0'}),
      field('Resources (optional JSON array of FHIR resources)', {id: 's-resources', tag: 'textarea', rows: 3, placeholder: '[]'})),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Simulate')));
  const out = h('div', {'aria-live': 'polite', id: 'sim-out'});
  root.append(h('p', {}, 'What would leave for this caller, decided by the policy in force with the patient\'s stored consents. Nothing is disclosed or recorded.'), form, out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = id => form.querySelector('#' + id).value.trim();
    const req = {
      caller: {org: v('s-org'), subject: v('s-subject'), purposes: [...purposes.selectedOptions].map(o => o.value),
        scopes: v('s-scopes').split(/\s+/).filter(Boolean), break_glass: v('s-bg'), fhir_user: v('s-fhiruser')},
      patient: v('s-patient'), query: v('s-query'),
    };
    if (v('s-resources')) {
      try { req.resources = JSON.parse(v('s-resources')); } catch (e) { put(out, errorBox('Resources: ' + e.message)); return; }
    }
    put(out, h('p', {class: 'muted'}, 'Deciding…'));
    const r = await api('policy/decide', req);
    if (!r.ok) { put(out, errorBox(problem(r))); return; }
    put(out, simulation(r.data));
  });
}

function simulation(d) {
  const leaves = d.items.filter(i => i.decision.effect !== 'deny');
  const withheld = d.items.filter(i => i.decision.effect !== 'permit');
  const itemRow = (i) => h('li', {class: 'item'}, h('code', {}, `${i.type}/${i.id}`), ' ', effectTag(i.decision.effect), ' ',
    (i.labels || []).filter(l => !l.includes('v3-Confidentiality|N')).map(l => h('span', {class: 'tag'}, labelCode(l))));
  return h('div', {},
    h('p', {id: 'sim-summary'}, `${d.items.length} resources in ${d.classes} decision classes; ${leaves.length} would leave ` +
      `(${leaves.length - leaves.filter(i => i.decision.effect === 'permit').length} redacted in part), ` +
      `${d.items.length - leaves.length} withheld. Policy ${d.policy_revision}, label rules ${d.rules_revision}. Consents read: ` +
      (d.consents.length ? d.consents.map(c => `Consent/${c.id} v${c.version} (${c.status})`).join(', ') : 'none') + '.'),
    h('div', {class: 'cols2'},
      h('section', {class: 'card', 'aria-labelledby': 'up-h'}, h('h2', {id: 'up-h'}, `The FHIR server holds (${d.items.length})`),
        h('ul', {class: 'items'}, d.items.map(itemRow))),
      h('section', {class: 'card', 'aria-labelledby': 'out-h'}, h('h2', {id: 'out-h'}, `Would leave (${leaves.length})`),
        h('ul', {class: 'items'}, leaves.map(itemRow)))),
    h('section', {class: 'card', 'aria-labelledby': 'why-h', id: 'sim-why'},
      h('h2', {id: 'why-h'}, `Withheld or redacted, and why (${withheld.length})`),
      withheld.length ? h('ul', {class: 'why'}, withheld.map(i => h('li', {},
        h('strong', {}, `${i.type}/${i.id}`), ' ', effectTag(i.decision.effect), explain(i.decision))))
        : h('p', {}, 'Nothing is withheld or redacted.')),
    h('details', {}, h('summary', {}, 'Why each permitted resource may leave'),
      h('ul', {class: 'why'}, d.items.filter(i => i.decision.effect === 'permit').map(i => h('li', {},
        h('strong', {}, `${i.type}/${i.id}`), explain(i.decision))))));
}

function matches(r) {
  const parts = [];
  if (r.codes) parts.push(h('span', {}, `codes ${r.codes.join(', ')}`));
  if (r.prefixes) parts.push(h('span', {}, `codes starting ${r.prefixes.join(', ')}`));
  if (r.ranges) parts.push(h('span', {}, `codes ${r.ranges.map(([a, b]) => `${a}–${b}`).join(', ')}`));
  if (!parts.length && !r.system) parts.push(h('span', {}, 'every resource of its types, whatever it holds'));
  const ex = [...(r.exclude || []), ...(r.exclude_prefixes || []).map(p => p + '*')];
  return [parts.reduce((acc, p, i) => i ? [...acc, '; ', p] : [p], []), ex.length ? ` except ${ex.join(', ')}` : ''];
}

async function rulesPage(root) {
  const r = await api('labels/rules');
  if (!r.ok) { root.append(errorBox(problem(r))); return; }
  const filter = h('input', {type: 'search', id: 'rule-filter', placeholder: 'F11, snomed, HIV …'});
  const out = h('div', {});
  root.append(h('p', {}, 'Resources holding a matching coding get the rule\'s labels; the policy decides on the labels.'),
    h('div', {class: 'field'}, h('label', {for: 'rule-filter'}, 'Filter rules'), filter), out);
  const draw = () => {
    const f = filter.value.trim().toLowerCase();
    put(out, ...r.data.topics.map(t => {
      const rules = t.rules.filter(x => !f || JSON.stringify(x).toLowerCase().includes(f) || t.topic.toLowerCase().includes(f));
      if (!rules.length) return '';
      return h('section', {class: 'card topic'},
        h('h2', {}, `${t.topic}${TOPICS[t.topic] ? ' — ' + TOPICS[t.topic] : ''} (${rules.length} rules)`),
        table(`Rules of ${t.topic}`, ['Rule', 'Code system', 'Matches', 'Labels', 'Resource types'],
          rules.map(x => h('tr', {}, h('td', {}, h('code', {}, x.id)), h('td', {class: 'refs'}, x.system),
            h('td', {class: 'refs'}, matches(x)), h('td', {}, x.labels.map(l => h('span', {class: 'tag'}, l))),
            h('td', {}, (x.types || []).join(', ') || 'any'))), {class: 'data small'}),
        rules[0].source ? h('p', {class: 'muted'}, 'Source: ', [...new Set(rules.map(x => x.source).filter(Boolean))].join('; ')) : null);
    }));
  };
  filter.addEventListener('input', draw);
  draw();
}

export const compliancePages = [
  {id: 'policy', title: 'Policy and tests', role: ROLE, render: policyPage},
  {id: 'simulator', title: 'Decision simulator', role: ROLE, render: simulatorPage},
  {id: 'rules', title: 'Label rules', role: ROLE, render: rulesPage},
];
