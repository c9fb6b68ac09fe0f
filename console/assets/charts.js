// Stacked bar charts drawn as SVG, with the numbers as a table beside them
// for screen readers and for reading exact values.
import {h, table} from './ui.js';

const NS = 'http://www.w3.org/2000/svg';
// Colour-blind-safe palette (Okabe–Ito), dark enough on white.
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#6f6f00', '#000000'];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** stackedBars draws one bar per day, stacked by series key. */
export function stackedBars(title, days, series) {
  const keys = Object.keys(series).sort((a, b) => total(series[b]) - total(series[a]));
  const W = 620, H = 220, L = 44, B = 36, T = 10;
  const sums = days.map((_, i) => keys.reduce((n, k) => n + series[k][i], 0));
  const max = Math.max(1, ...sums);
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const bw = (W - L - 8) / days.length;
  const y = v => T + (H - T - B) * (1 - v / top);
  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}: ${total(sums)} in ${days.length} days`});
  for (let v = 0; v <= top; v += step) {
    svg.append(s('line', {x1: L, x2: W - 4, y1: y(v), y2: y(v), class: 'grid'}),
      s('text', {x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis'}, v));
  }
  days.forEach((d, i) => {
    let base = 0;
    keys.forEach((k, j) => {
      const n = series[k][i];
      if (!n) return;
      const r = s('rect', {x: L + i * bw + 1, width: Math.max(1, bw - 2), y: y(base + n), height: y(base) - y(base + n),
        fill: COLOURS[j % COLOURS.length]});
      r.append(s('title', {}, `${d} ${k}: ${n}`));
      svg.append(r);
      base += n;
    });
    const every = Math.ceil(days.length / 8);
    if (i % every === 0) svg.append(s('text', {x: L + i * bw + bw / 2, y: H - B + 16, 'text-anchor': 'middle', class: 'axis'}, d.slice(5)));
  });
  const legend = h('ul', {class: 'legend'}, keys.map((k, j) => h('li', {},
    h('span', {class: 'swatch', style: null, 'data-c': j % COLOURS.length}), `${k} (${total(series[k])})`)));
  legend.querySelectorAll('.swatch').forEach(el => { el.style.background = COLOURS[Number(el.dataset.c)]; });
  const rows = days.map((d, i) => sums[i] ? h('tr', {}, h('th', {scope: 'row'}, d), keys.map(k => h('td', {class: 'num'}, series[k][i]))) : null)
    .filter(Boolean);
  return h('figure', {class: 'chart card'},
    h('figcaption', {}, title),
    keys.length ? [svg, legend] : h('p', {class: 'muted'}, 'Nothing in this range.'),
    keys.length ? h('details', {}, h('summary', {}, 'Numbers'),
      table(title, ['Day', ...keys], rows, {class: 'data small'})) : null);
}

function total(a) { return a.reduce((x, y) => x + y, 0); }

function niceStep(max) {
  const raw = max / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return Math.max(1, m * p);
  return Math.max(1, 10 * p);
}
