// Renders /openapi.json as a list of operations grouped by tag. No dependencies.
(async function () {
  const main = document.getElementById('ops');
  const filter = document.getElementById('filter');
  const spec = await (await fetch('/openapi.json')).json();
  const resolve = (s) => (s && s.$ref ? spec.components.schemas[s.$ref.split('/').pop()] : s);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => (k === 'class' ? (e.className = v) : e.setAttribute(k, v)));
    kids.forEach((k) => e.append(k));
    return e;
  };
  const ops = [];
  Object.entries(spec.paths).forEach(([path, item]) =>
    Object.entries(item).forEach(([method, op]) => ops.push({ path, method: method.toUpperCase(), op })));
  function render() {
    const q = filter.value.toLowerCase();
    main.textContent = '';
    const tags = [...new Set(ops.map((o) => o.op.tags[0]))];
    tags.forEach((tag) => {
      const shown = ops.filter((o) => o.op.tags[0] === tag &&
        (tag + o.path + o.op.summary).toLowerCase().includes(q));
      if (!shown.length) return;
      main.append(el('h2', {}, tag));
      shown.forEach(({ path, method, op }) => {
        const d = el('details', {}, el('summary', {}, el('span', { class: 'm ' + method }, method), el('code', {}, path), ' — ' + op.summary));
        if (op.description) d.append(el('p', {}, op.description));
        const body = op.requestBody && op.requestBody.content['application/json'].schema;
        if (body) d.append(el('p', {}, 'Request body: ' + body.$ref.split('/').pop()), el('pre', {}, JSON.stringify(resolve(body), null, 2)));
        Object.entries(op.responses).forEach(([status, r]) => d.append(el('p', {}, el('strong', {}, status), ' ' + r.description)));
        main.append(d);
      });
    });
  }
  filter.addEventListener('input', render);
  render();
})();
