// Announcements (banner, modal, slide-out), checklists and launchers.
import { Check, Choice, List, Text, withOptional, type EditorProps, type Json } from './fields';
import { RichText } from './richtext';
import { TargetEditor, type Target } from './target';
import { Targeting, type Targeted } from './targeting';
import { Locales } from './locales';
import { ExperimentEditor, type Experiment } from './experiment';

const POSITIONS: [string, string][] = [['top', 'Top'], ['bottom', 'Bottom'], ['center', 'Centre'], ['top-left', 'Top left'], ['top-right', 'Top right'], ['bottom-left', 'Bottom left'], ['bottom-right', 'Bottom right']];

type Cta = { action: string; label: string; url?: string; tour_id?: string };
export type ContentDoc = Targeted & { name: string; type: string; position?: string; title: string; body?: string; buttons?: Cta[]; dismissible?: boolean; locales?: Record<string, unknown>; experiment?: Experiment };

export function ContentEditor(p: EditorProps<ContentDoc> & { id: string }) {
  const { doc, change, err, ro, refs } = p;
  return (
    <>
      <Text label="Name" id="f-name" value={doc.name} ro={ro} errors={err('name')} onChange={(name) => change({ ...doc, name })} />
      <div class="row">
        <Choice label="Type" id="c-type" value={doc.type} ro={ro} errors={err('type')} options={[['banner', 'Banner'], ['modal', 'Modal'], ['slideout', 'Slide-out']]} onChange={(type) => change({ ...doc, type })} />
        <Choice label="Position" id="c-position" value={doc.position ?? (doc.type === 'modal' ? 'center' : 'top')} ro={ro} errors={err('position')} options={POSITIONS} onChange={(position) => change({ ...doc, position })} />
      </div>
      <Text label="Title" id="c-title" value={doc.title} ro={ro} errors={err('title')} onChange={(title) => change({ ...doc, title })} />
      <RichText label="Body" id="c-body" value={doc.body ?? ''} ro={ro} errors={err('body')} onChange={(body) => change({ ...doc, body })} />
      <Check label="People can dismiss it" id="c-dismissible" checked={doc.dismissible !== false} ro={ro} onChange={(dismissible) => change({ ...doc, dismissible })} />
      <h3>Buttons</h3>
      <List<Cta> items={doc.buttons ?? []} ro={ro} noun="Button" max={3} blank={() => ({ action: 'dismiss', label: 'Got it' })}
        onChange={(buttons) => change(withOptional(doc, 'buttons', buttons.length ? buttons : undefined))}
        render={(b, put, j) => (
          <div class="row">
            <Choice label="Action" id={`c-b${j}-action`} value={b.action} ro={ro} errors={err(`buttons[${j}].action`)}
              options={[['dismiss', 'Dismiss'], ['link', 'Open a link'], ['start_tour', 'Start a tour']]}
              onChange={(action) => put(action === 'link' ? { action, label: b.label, url: 'https://' } : action === 'start_tour' ? { action, label: b.label, tour_id: refs.tours[0]?.id ?? '' } : { action, label: b.label })} />
            <Text label="Label" id={`c-b${j}-label`} value={b.label} ro={ro} errors={err(`buttons[${j}].label`)} onChange={(label) => put({ ...b, label })} />
            {b.action === 'link' && <Text label="URL" id={`c-b${j}-url`} value={b.url} ro={ro} errors={err(`buttons[${j}].url`)} onChange={(url) => put({ ...b, url })} />}
            {b.action === 'start_tour' && <Choice label="Tour" id={`c-b${j}-tour`} value={b.tour_id ?? ''} ro={ro} errors={err(`buttons[${j}].tour_id`)}
              options={refs.tours.map((t): [string, string] => [t.id, t.name])} onChange={(tour_id) => put({ ...b, tour_id })} />}
          </div>
        )} />
      <Targeting<ContentDoc> {...p} parts={{ trigger: true, frequency: true, schedule: true }} />
      <Locales locales={doc.locales} perStep={false} err={err} ro={ro} slots={[{ label: 'Announcement', title: doc.title, body: doc.body }]}
        onChange={(locales) => change(withOptional(doc, 'locales', locales))} />
      <ExperimentEditor value={doc.experiment} err={err} ro={ro} resultsFor={p.id} onChange={(x) => change(withOptional(doc, 'experiment', x))} />
    </>
  );
}

type Item = { id: string; title: string; description?: string; completed_by: Json; action?: Json };
export type ChecklistDoc = Targeted & { name: string; title: string; description?: string; items: Item[]; dismissible?: boolean };

export function ChecklistEditor(p: EditorProps<ChecklistDoc>) {
  const { doc, change, err, ro, refs } = p;
  const tours = refs.tours.map((t): [string, string] => [t.id, t.name]);
  return (
    <>
      <Text label="Name" id="f-name" value={doc.name} ro={ro} errors={err('name')} onChange={(name) => change({ ...doc, name })} />
      <Text label="Title" id="k-title" value={doc.title} ro={ro} errors={err('title')} onChange={(title) => change({ ...doc, title })} />
      <Text label="Description" id="k-description" value={doc.description} ro={ro} errors={err('description')} onChange={(description) => change(withOptional(doc, 'description', description || undefined))} />
      <Check label="People can dismiss it" id="k-dismissible" checked={doc.dismissible !== false} ro={ro} onChange={(dismissible) => change({ ...doc, dismissible })} />
      <h2>Items</h2>
      {err('items').filter((e) => e.path === 'items').map((e) => <p class="error">{e.message}</p>)}
      <List<Item> items={doc.items} ro={ro} noun="Item" max={20}
        blank={() => ({ id: `item-${doc.items.length + 1}`, title: '', completed_by: { type: 'event', event: '' } })}
        onChange={(items) => change({ ...doc, items })}
        render={(it, put, j) => {
          const done = String(it.completed_by.type ?? 'event');
          const act = String(it.action?.type ?? '');
          return (
            <>
              <div class="row">
                <Text label="Id (stable, for progress)" id={`k${j}-id`} value={it.id} ro={ro} errors={err(`items[${j}].id`)} onChange={(id) => put({ ...it, id })} />
                <Text label="Title" id={`k${j}-title`} value={it.title} ro={ro} errors={err(`items[${j}].title`)} onChange={(title) => put({ ...it, title })} />
              </div>
              <Text label="Description" id={`k${j}-description`} value={it.description} ro={ro} errors={err(`items[${j}].description`)} onChange={(d) => put(withOptional(it, 'description', d || undefined))} />
              <div class="row">
                <Choice label="Done when" id={`k${j}-done`} value={done} ro={ro} errors={err(`items[${j}].completed_by`).filter((e) => e.path === `items[${j}].completed_by`)}
                  options={[['event', 'An event is tracked'], ['tour', 'A tour is completed'], ['click', 'An element is clicked']]}
                  onChange={(type) => put({ ...it, completed_by: type === 'tour' ? { type, tour_id: refs.tours[0]?.id ?? '' } : type === 'click' ? { type, target: { selectors: [] } } : { type, event: '' } })} />
                {done === 'event' && <Text label="Event" id={`k${j}-event`} value={String(it.completed_by.event ?? '')} ro={ro} errors={err(`items[${j}].completed_by.event`)} onChange={(event) => put({ ...it, completed_by: { type: 'event', event } })} />}
                {done === 'tour' && <Choice label="Tour" id={`k${j}-tour`} value={String(it.completed_by.tour_id ?? '')} ro={ro} errors={err(`items[${j}].completed_by.tour_id`)} options={tours} onChange={(tour_id) => put({ ...it, completed_by: { type: 'tour', tour_id } })} />}
              </div>
              {done === 'click' && <TargetEditor id={`k${j}-target`} value={it.completed_by.target as Target | undefined} ro={ro} errors={err(`items[${j}].completed_by.target`)}
                pageUrl={refs.pageUrl} setPageUrl={refs.setPageUrl} onChange={(target) => put({ ...it, completed_by: { type: 'click', target } })} />}
              <div class="row">
                <Choice label="When clicked" id={`k${j}-action`} value={act} ro={ro} errors={err(`items[${j}].action`)}
                  options={[['', 'Nothing'], ['tour', 'Start a tour'], ['link', 'Open a link']]}
                  onChange={(type) => put(withOptional(it, 'action', type === 'tour' ? { type, tour_id: refs.tours[0]?.id ?? '' } : type === 'link' ? { type, url: '/' } : undefined))} />
                {act === 'tour' && <Choice label="Tour to start" id={`k${j}-action-tour`} value={String(it.action?.tour_id ?? '')} ro={ro} errors={err(`items[${j}].action.tour_id`)} options={tours} onChange={(tour_id) => put({ ...it, action: { type: 'tour', tour_id } })} />}
                {act === 'link' && <Text label="Link" id={`k${j}-action-url`} value={String(it.action?.url ?? '')} ro={ro} errors={err(`items[${j}].action.url`)} onChange={(url) => put({ ...it, action: { type: 'link', url } })} />}
              </div>
            </>
          );
        }} />
      <Targeting<ChecklistDoc> {...p} parts={{ schedule: true }} />
    </>
  );
}

type LauncherItem = { type: string; label?: string; url?: string; tour_id?: string; checklist_id?: string };
export type LauncherDoc = Targeted & { name: string; type: string; label?: string; target?: Target; position?: string; items: LauncherItem[] };

export function LauncherEditor(p: EditorProps<LauncherDoc>) {
  const { doc, change, err, ro, refs } = p;
  return (
    <>
      <Text label="Name" id="f-name" value={doc.name} ro={ro} errors={err('name')} onChange={(name) => change({ ...doc, name })} />
      <div class="row">
        <Choice label="Type" id="n-type" value={doc.type} ro={ro} errors={err('type')} options={[['button', 'Floating button'], ['beacon', 'Beacon on an element']]}
          onChange={(type) => change(type === 'beacon' ? { ...doc, type, target: doc.target ?? { selectors: [] } } : withOptional({ ...doc, type }, 'target', undefined))} />
        <Text label="Label" id="n-label" value={doc.label} ro={ro} errors={err('label')} onChange={(label) => change({ ...doc, label })} />
        {doc.type === 'button' && <Choice label="Position" id="n-position" value={doc.position ?? 'bottom-right'} ro={ro} errors={err('position')} options={POSITIONS} onChange={(position) => change({ ...doc, position })} />}
      </div>
      {doc.type === 'beacon' && <TargetEditor id="n-target" value={doc.target} ro={ro} errors={err('target')} pageUrl={refs.pageUrl} setPageUrl={refs.setPageUrl} onChange={(target) => change({ ...doc, target })} />}
      <h2>Menu</h2>
      {err('items').filter((e) => e.path === 'items').map((e) => <p class="error">{e.message}</p>)}
      <List<LauncherItem> items={doc.items} ro={ro} noun="Entry" max={20} blank={() => ({ type: 'link', label: 'Help', url: 'https://' })}
        onChange={(items) => change({ ...doc, items })}
        render={(it, put, j) => (
          <div class="row">
            <Choice label="Opens" id={`n${j}-type`} value={it.type} ro={ro} errors={err(`items[${j}].type`)} options={[['tour', 'A tour'], ['checklist', 'A checklist'], ['link', 'A link']]}
              onChange={(type) => put(type === 'tour' ? { type, label: it.label, tour_id: refs.tours[0]?.id ?? '' } : type === 'checklist' ? { type, label: it.label, checklist_id: refs.checklists[0]?.id ?? '' } : { type, label: it.label ?? 'Link', url: 'https://' })} />
            <Text label="Label" id={`n${j}-label`} value={it.label} ro={ro} errors={err(`items[${j}].label`)} onChange={(label) => put({ ...it, label })} />
            {it.type === 'tour' && <Choice label="Tour" id={`n${j}-tour`} value={it.tour_id ?? ''} ro={ro} errors={err(`items[${j}].tour_id`)} options={refs.tours.map((t): [string, string] => [t.id, t.name])} onChange={(tour_id) => put({ ...it, tour_id })} />}
            {it.type === 'checklist' && <Choice label="Checklist" id={`n${j}-checklist`} value={it.checklist_id ?? ''} ro={ro} errors={err(`items[${j}].checklist_id`)} options={refs.checklists.map((t): [string, string] => [t.id, t.name])} onChange={(checklist_id) => put({ ...it, checklist_id })} />}
            {it.type === 'link' && <Text label="URL" id={`n${j}-url`} value={it.url} ro={ro} errors={err(`items[${j}].url`)} onChange={(url) => put({ ...it, url })} />}
          </div>
        )} />
      <Targeting<LauncherDoc> {...p} parts={{}} />
    </>
  );
}
