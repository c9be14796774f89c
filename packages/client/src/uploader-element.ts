/**
 * <upfront-uploader>: a file picker and drop zone with a queue (per-file and total progress, pause,
 * resume, cancel, retry, errors in words) for any page, no framework. It renders into an open shadow
 * root and names its pieces with `part`s, so a page styles them with ::part(); the host's content
 * becomes the button's label. A view of @upfront/client/queue; the standalone bundle
 * (dist/upfront-uploader.js, uploader-standalone.ts) defines it for a page with one script tag.
 */
import { createClient, type UpfrontClient } from './client.ts';
import { UpfrontError } from './errors.ts';
import { createUploadQueue, describeQueue, type QueueSnapshot, type UploadItem, type UploadQueue } from './queue.ts';

export type UploaderToken = string | (() => string | Promise<string>);

/** What `upfront-progress`, `upfront-done` and `upfront-error` carry (they bubble, and leave the shadow root). */
export interface UploaderEventDetail {
  item: UploadItem;
  total: QueueSnapshot['total'];
}

const STYLE = `
:host { display: block; }
:host([hidden]) { display: none; }
[part~=dropzone] { display: grid; gap: .5rem; justify-items: center; padding: 1.25rem; border: 2px dashed color-mix(in srgb, currentColor 40%, transparent); border-radius: .75rem; }
:host([dragging]) [part~=dropzone] { border-style: solid; background: color-mix(in srgb, currentColor 8%, transparent); }
button { font: inherit; color: inherit; background: transparent; border: 1px solid currentColor; border-radius: .4rem; padding: .3rem .8rem; cursor: pointer; }
button:focus-visible { outline: 3px solid Highlight; outline-offset: 2px; }
button[hidden], progress[hidden] { display: none; }
[part~=status] { margin: 0; min-height: 1.5em; }
[part~=list] { list-style: none; margin: .75rem 0 0; padding: 0; display: grid; gap: .5rem; }
[part~=item] { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; }
[part~=name] { flex: 1 1 10rem; overflow-wrap: anywhere; }
[part~=error] { flex-basis: 100%; margin: 0; }
[part~=error]:empty { display: none; }
`;

interface Row {
  li: HTMLLIElement;
  progress: HTMLProgressElement;
  percent: HTMLElement;
  toggle: HTMLButtonElement;
  cancel: HTMLButtonElement;
  retry: HTMLButtonElement;
  error: HTMLElement;
}

const percentOf = (loaded: number, total: number) => (total ? Math.floor((loaded / total) * 100) : 100);

function element<K extends keyof HTMLElementTagNameMap>(tag: K, part: string, text = ''): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.setAttribute('part', part);
  node.textContent = text;
  return node;
}

export class UpfrontUploaderElement extends HTMLElement {
  static observedAttributes = ['accept', 'multiple', 'disabled'];
  /** Where the hashing worker is loaded from when there is no worker-url attribute (the standalone bundle sets it). */
  static defaultWorkerUrl: string | undefined;

  #token: UploaderToken | undefined;
  #client: UpfrontClient | undefined;
  #queue: UploadQueue | undefined;
  #previous = new Map<string, UploadItem>();
  #rows = new Map<string, Row>();
  #input = document.createElement('input');
  #button = element('button', 'button');
  #status = element('p', 'status');
  #total = element('progress', 'total');
  #list = element('ul', 'list');

  constructor() {
    super();
    // A property set before the element was defined would hide the accessor: pass it through.
    for (const name of ['token', 'client'] as const) {
      if (!Object.hasOwn(this, name)) continue;
      const value = this[name];
      delete this[name];
      this[name] = value as never;
    }
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    const zone = element('div', 'dropzone');
    this.#input.type = 'file';
    this.#input.hidden = true;
    this.#input.tabIndex = -1;
    this.#input.addEventListener('change', () => {
      this.add(this.#input.files ?? []);
      this.#input.value = ''; // the same file can be chosen again
    });
    this.#button.type = 'button';
    this.#button.append(Object.assign(document.createElement('slot'), { textContent: 'Choose files or drop them here' }));
    this.#button.addEventListener('click', () => this.#input.click());
    this.#status.id = 'status';
    this.#status.setAttribute('role', 'status');
    this.#status.setAttribute('aria-live', 'polite');
    this.#button.setAttribute('aria-describedby', 'status');
    this.#total.hidden = true;
    this.#total.setAttribute('aria-label', 'All files');
    zone.append(this.#input, this.#button, this.#status, this.#total);
    zone.addEventListener('dragover', (event) => {
      if (this.hasAttribute('disabled')) return;
      event.preventDefault();
      this.toggleAttribute('dragging', true);
    });
    zone.addEventListener('dragleave', (event) => {
      if (!zone.contains(event.relatedTarget as Node | null)) this.removeAttribute('dragging');
    });
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      this.removeAttribute('dragging');
      if (!this.hasAttribute('disabled')) this.add(event.dataTransfer?.files ?? []);
    });
    root.append(style, zone, this.#list);
  }

  attributeChangedCallback() {
    this.#input.accept = this.getAttribute('accept') ?? '';
    this.#input.multiple = this.hasAttribute('multiple');
    this.#button.disabled = this.hasAttribute('disabled');
  }

  /** The user's token: a string, or a function asked before every request. Or the `token` attribute. */
  get token(): UploaderToken | undefined {
    return this.#token;
  }
  set token(value: UploaderToken | undefined) {
    this.#token = value;
  }

  /** A client of the page's, used instead of one made from `endpoint` and the token (set it before the first file). */
  get client(): UpfrontClient | undefined {
    return this.#client;
  }
  set client(value: UpfrontClient | undefined) {
    this.#client = value;
  }

  /** The element's queue (made at the first file, with the attributes then). */
  get queue(): UploadQueue {
    if (this.#queue) return this.#queue;
    this.#client ??= createClient({
      endpoint: this.getAttribute('endpoint') ?? location.origin,
      token: () => {
        const token = this.#token ?? this.getAttribute('token');
        if (token === null || token === undefined) throw new UpfrontError('unauthorized', 'The uploader has no token: set its token property or attribute.', 401);
        return typeof token === 'function' ? token() : token;
      },
      workerUrl: this.getAttribute('worker-url') ?? UpfrontUploaderElement.defaultWorkerUrl,
    });
    const concurrency = Number(this.getAttribute('concurrency')) || undefined;
    this.#queue = createUploadQueue(this.#client, { concurrency });
    this.#queue.subscribe(() => this.#render(this.#queue!.getSnapshot()));
    return this.#queue;
  }

  /** Uploads files to the `route` attribute's route (only the first without `multiple`). */
  add(files: Iterable<Blob> | ArrayLike<Blob>): string[] {
    const list = Array.from(files);
    if (list.length === 0) return [];
    return this.queue.add(this.hasAttribute('multiple') ? list : list.slice(0, 1), { route: this.getAttribute('route') ?? '' });
  }

  #render(snapshot: QueueSnapshot) {
    const { items, total } = snapshot;
    const status = describeQueue(snapshot);
    // Only a changed sentence is written, so the live region is read out once per change.
    if (this.#status.textContent !== status) this.#status.textContent = status;
    this.#total.hidden = items.length < 2;
    this.#total.max = total.total || 1;
    this.#total.value = total.total ? total.loaded : 0;
    const current = new Map(items.map((item) => [item.key, item]));
    for (const [key, row] of this.#rows) {
      if (current.has(key)) continue;
      row.li.remove();
      this.#rows.delete(key);
    }
    for (const item of items) {
      const row = this.#rows.get(item.key) ?? this.#row(item);
      this.#update(row, item);
      const before = this.#previous.get(item.key);
      const detail: UploaderEventDetail = { item, total };
      if (item.state !== before?.state || item.loaded !== before.loaded) this.#emit('upfront-progress', detail);
      if (item.state !== before?.state && (item.state === 'done' || item.state === 'error')) this.#emit(`upfront-${item.state}`, detail);
    }
    this.#previous = current;
  }

  #row(item: UploadItem): Row {
    const li = element('li', 'item');
    const name = element('span', 'name', item.name);
    const progress = element('progress', 'progress');
    progress.setAttribute('aria-label', item.name);
    const button = (part: string, text: string, action: () => void) => {
      const node = element('button', part, text);
      node.type = 'button';
      node.setAttribute('aria-label', `${text} ${item.name}`);
      node.addEventListener('click', action);
      return node;
    };
    const queue = this.queue;
    const row: Row = {
      li,
      progress,
      percent: element('span', 'percent'),
      toggle: button('pause', 'Pause', () => (this.#previous.get(item.key)?.paused ? queue.resume(item.key) : queue.pause(item.key))),
      cancel: button('cancel', 'Cancel', () => void queue.cancel(item.key).catch(() => {})),
      retry: button('retry', 'Retry', () => queue.retry(item.key)),
      error: element('p', 'error'),
    };
    li.append(name, progress, row.percent, row.toggle, row.cancel, row.retry, row.error);
    this.#list.append(li);
    this.#rows.set(item.key, row);
    return row;
  }

  #update(row: Row, item: UploadItem) {
    const finished = item.state === 'done' || item.state === 'error';
    row.li.setAttribute('part', `item item-${item.state}${item.paused ? ' item-paused' : ''}`);
    row.li.dataset.state = item.state;
    row.progress.max = item.total || 1;
    row.progress.value = item.total ? item.loaded : item.state === 'done' ? 1 : 0;
    row.percent.textContent = item.state === 'error' ? '' : `${percentOf(item.loaded, item.total)}%`;
    const verb = item.paused ? 'Resume' : 'Pause';
    if (row.toggle.textContent !== verb) {
      row.toggle.textContent = verb;
      row.toggle.setAttribute('part', verb.toLowerCase());
      row.toggle.setAttribute('aria-label', `${verb} ${item.name}`);
    }
    const focused = this.shadowRoot!.activeElement;
    row.toggle.hidden = row.cancel.hidden = finished;
    row.retry.hidden = item.state !== 'error';
    // Focus on a button that just hid moves to the row's next action (Retry, Pause), or to the picker's button.
    if (focused instanceof HTMLElement && focused.hidden && row.li.contains(focused)) ([row.retry, row.toggle].find((button) => !button.hidden) ?? this.#button).focus();
    row.error.textContent = item.error?.detail ?? '';
  }

  #emit(type: string, detail: UploaderEventDetail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

/** Defines <upfront-uploader> (or another name), once. */
export function defineUploader(name = 'upfront-uploader'): void {
  if (!customElements.get(name)) customElements.define(name, UpfrontUploaderElement);
}
