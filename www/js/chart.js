// Small SVG charts (no library): a line or bars over the last blocks,
// with a text summary for screen readers and for the caption.

import { el } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

/**
 * A chart of `points` ([{x: height, y: value}]): `kind` "line" or "bar",
 * `format(y)` for labels. Returns a <figure> with the summary as caption.
 */
export function chart({ points, kind = 'line', title, format = (y) => String(y), id }) {
  const width = 640;
  const height = 200;
  const left = 56;
  const right = 10;
  const top = 10;
  const bottom = 26;
  const figure = el('figure', { class: 'chart-box', id });
  if (!points.length) {
    figure.append(el('p', { class: 'hint', text: `${title}: no data yet.` }));
    return figure;
  }
  const ys = points.map((p) => p.y);
  const min = Math.min(...ys);
  const max = Math.max(...ys);
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const low = kind === 'bar' ? 0 : min === max ? min * 0.9 : min - (max - min) * 0.1;
  const high = max === low ? low + 1 : max + (max - low) * 0.05;
  const sx = (i) => left + ((width - left - right) * (points.length === 1 ? 0.5 : i / (points.length - 1)));
  const sy = (y) => top + (height - top - bottom) * (1 - (y - low) / (high - low));
  const summary = `${title}, blocks ${points[0].x} to ${points.at(-1).x}: minimum ${format(min)}, mean ${format(mean)}, maximum ${format(max)}.`;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': summary });
  for (const y of [low, (low + high) / 2, high]) {
    root.append(svg('line', { x1: left, x2: width - right, y1: sy(y), y2: sy(y), class: 'grid-line' }));
    const label = svg('text', { x: left - 6, y: sy(y) + 4, 'text-anchor': 'end' });
    label.textContent = format(y);
    root.append(label);
  }
  root.append(svg('line', { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, class: 'axis' }));
  for (const [i, anchor] of [[0, 'start'], [points.length - 1, 'end']]) {
    const label = svg('text', { x: sx(i), y: height - 8, 'text-anchor': anchor });
    label.textContent = `#${points[i].x}`;
    root.append(label);
  }
  if (kind === 'bar') {
    const slot = (width - left - right) / points.length;
    points.forEach((p, i) => {
      const x = left + slot * i + slot * 0.15;
      root.append(svg('rect', { x, y: sy(p.y), width: Math.max(1, slot * 0.7), height: Math.max(0, height - bottom - sy(p.y)), class: 'bar' }));
    });
  } else {
    root.append(svg('polyline', { points: points.map((p, i) => `${sx(i)},${sy(p.y)}`).join(' '), class: 'line' }));
    if (points.length <= 40) points.forEach((p, i) => root.append(svg('circle', { cx: sx(i), cy: sy(p.y), r: 2.5, class: 'dot' })));
  }
  figure.append(root, el('figcaption', { text: summary }));
  return figure;
}
