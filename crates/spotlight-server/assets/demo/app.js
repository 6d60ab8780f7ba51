// The demo host app: a tiny single-page app (history API navigation) standing
// in for a tenant's product. It knows nothing of Spotlight beyond one
// `spotlight.track` call, as a real app would.
(function () {
  'use strict';
  // Calls made before the SDK script arrives are queued for it.
  if (!window.spotlight) {
    window.spotlight = { q: [] };
    ['init', 'identify', 'track', 'start', 'stop', 'reset', 'on'].forEach(function (m) {
      window.spotlight[m] = function () { window.spotlight.q.push([m, arguments]); };
    });
  }
  var projects = ['Website relaunch', 'Q3 planning'];

  // Who is signed in to Acme: a visitor (Spotlight keeps an anonymous id), or
  // the demo admin — an in-app admin of the demo tenant, who gets Spotlight's
  // editor (pick elements, preview drafts) and can pick for the dashboard.
  var ADMIN_FLAG = 'acme:as-admin';
  var asAdmin = false;
  try { asAdmin = localStorage.getItem(ADMIN_FLAG) === '1'; } catch (e) { /* storage blocked */ }
  if (asAdmin) window.spotlight.identify('demo-admin', { role: 'admin' });

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (kids || []).forEach(function (k) { e.append(k); });
    return e;
  }

  var views = {
    '/demo/': function () {
      var b = el('button', { id: 'new-project', 'data-testid': 'new-project', class: 'primary' }, ['New project']);
      b.addEventListener('click', function () { go('/demo/projects'); });
      return [el('h1', {}, ['Good morning']), el('p', {}, ['Three projects need your attention.']), b,
        el('section', { class: 'cards' }, [card('Open tasks', '12'), card('Due this week', '4'), card('Done', '31')])];
    },
    '/demo/projects': function () {
      var list = el('ul', { class: 'list' }, projects.map(function (p) { return el('li', {}, [p]); }));
      var input = el('input', { id: 'project-name', placeholder: 'Project name', 'aria-label': 'Project name' });
      var form = el('form', { class: 'row' }, [input, el('button', { class: 'primary', type: 'submit' }, ['Create project'])]);
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        var name = input.value.trim();
        if (!name) return;
        projects.push(name);
        window.spotlight.track('project_created', { name: name });
        go('/demo/projects');
      });
      return [el('h1', {}, ['Projects']), form, list];
    },
    '/demo/reports': function () {
      var bars = el('div', { class: 'bars', role: 'img', 'aria-label': 'Tasks done per week' },
        [40, 65, 50, 80, 72].map(function (h) { var d = el('div', { class: 'bar h' + h }); return d; }));
      return [el('h1', {}, ['Reports']), bars, el('button', { id: 'export' }, ['Export CSV'])];
    },
    '/demo/settings': function () {
      return [el('h1', {}, ['Settings']), el('label', {}, ['Team name ', el('input', { id: 'team', value: 'Acme' })]),
        el('label', {}, [el('input', { type: 'checkbox', id: 'digest', checked: '' }), ' Weekly digest'])];
    },
  };

  function card(title, value) {
    return el('div', { class: 'card' }, [el('div', { class: 'value' }, [value]), el('div', {}, [title])]);
  }

  function render() {
    var path = location.pathname.replace(/\/?$/, '/').replace(/^\/demo\/$/, '/demo/');
    var view = views[path] || views[location.pathname] || views['/demo/'];
    var main = document.getElementById('view');
    main.replaceChildren.apply(main, view());
    document.querySelectorAll('nav a').forEach(function (a) {
      if (a.getAttribute('href') === location.pathname) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
  }

  function go(path) {
    history.pushState({}, '', path);
    render();
  }

  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[href^="/demo/"]');
    if (!a || e.metaKey || e.ctrlKey) return;
    e.preventDefault();
    go(a.getAttribute('href'));
  });
  window.addEventListener('popstate', render);
  var who = document.getElementById('who');
  if (who) {
    who.textContent = asAdmin ? 'Signed in as the demo admin · switch to visitor' : 'Visitor · sign in as the demo admin';
    who.setAttribute('aria-pressed', asAdmin ? 'true' : 'false');
    who.addEventListener('click', function () {
      try {
        if (asAdmin) localStorage.removeItem(ADMIN_FLAG); else localStorage.setItem(ADMIN_FLAG, '1');
      } catch (e) { /* storage blocked */ }
      if (asAdmin) window.spotlight.reset();
      location.reload();
    });
  }
  render();
})();
