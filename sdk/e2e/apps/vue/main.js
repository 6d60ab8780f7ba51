// "Pipeline" again, as a Vue team writes it: vue-router with lazy routes, the
// same sticky bar, native <dialog>, fixed help button, reset CSS, a feed whose
// cards are re-created on every refresh and contacts that arrive late.
// Spotlight is installed exactly as docs/sdk.md says: the loader snippet with
// a queued `identify`, and `<script … data-key>` (see index.html).
import { createApp, defineAsyncComponent, onMounted, onUnmounted, ref, watch } from 'vue';
import { createRouter, createWebHistory, RouterLink, RouterView } from 'vue-router';

const Home = {
  template: `<section><h1>Welcome back</h1><div class="feed">
    <article class="card" v-for="(text, i) in items" :key="version + '-' + i"><p>{{ text }}</p>
      <button v-if="i === 0" data-testid="new-contact" class="primary">New contact</button></article></div></section>`,
  setup() {
    const version = ref(0);
    let t;
    onMounted(() => { t = setInterval(() => { version.value++; }, 700); });
    onUnmounted(() => clearInterval(t));
    return { version, items: ['Deal won: Globex', 'Call with Initech', 'Email from Umbrella'] };
  },
};

const Contacts = () => new Promise((resolve) => setTimeout(() => resolve({
  template: `<section><h1>Contacts</h1><p v-if="!rows" class="loading">Loading contacts…</p>
    <template v-else><button id="add-contact" class="primary">Add contact</button>
    <div class="panel" data-testid="contact-panel"><ul><li v-for="(r, i) in rows" :key="r">{{ r }}
      <button v-if="i === rows.length - 1" data-testid="archive-last">Archive</button></li></ul></div></template></section>`,
  setup() {
    const rows = ref(null);
    onMounted(() => setTimeout(() => { rows.value = Array.from({ length: 40 }, (_, i) => `Contact ${i + 1}`); }, 300));
    return { rows };
  },
}), 150));

const Settings = { template: '<section><h1>Settings</h1><label>Company <input value="Acme"></label></section>' };

const InviteDialog = {
  props: ['open'],
  emits: ['close'],
  template: `<dialog ref="d" class="dialog" @close="$emit('close')" aria-labelledby="invite-title">
    <form method="dialog"><h2 id="invite-title">Invite a teammate</h2>
    <label>Email <input name="email" type="email" placeholder="name@company.com"></label>
    <div class="actions"><button type="button" @click="$emit('close')">Cancel</button>
    <button data-testid="send-invite" class="primary">Send invite</button></div></form></dialog>`,
  setup(props) {
    const d = ref(null);
    watch(() => props.open, (open) => {
      if (open && !d.value.open) d.value.showModal();
      if (!open && d.value.open) d.value.close();
    });
    return { d };
  },
};

const App = {
  components: { RouterLink, RouterView, InviteDialog },
  template: `<header class="topbar"><strong class="logo">Pipeline</strong>
    <nav><RouterLink to="/">Home</RouterLink><RouterLink to="/contacts">Contacts</RouterLink><RouterLink to="/settings">Settings</RouterLink></nav>
    <button id="invite" @click="inviting = true">Invite</button><span class="me">Grace</span></header>
    <main><RouterView /></main>
    <InviteDialog :open="inviting" @close="inviting = false" />
    <button class="help" aria-label="Help">?</button>`,
  setup() { return { inviting: ref(false) }; },
};

const router = createRouter({
  history: createWebHistory(),
  linkActiveClass: 'active',
  routes: [
    { path: '/', component: Home },
    { path: '/contacts', component: defineAsyncComponent(Contacts) },
    { path: '/settings', component: Settings },
  ],
});
createApp(App).use(router).mount('#app');
