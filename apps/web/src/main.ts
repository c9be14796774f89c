/**
 * The demo page: dev sign-in, upload with progress, result, and the user's files.
 * The API serves it (`upfront dev`), or a website bucket does (`upfront site deploy`), which names the API.
 */
import { createClient, UpfrontError, type UploadedFile, type UploadRoute, type UploadTask } from '@upfront/client';

const TOKEN_KEY = 'upfront.token';
const USER_KEY = 'upfront.user';
const PAGE_SIZE = 20;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return found as T;
}

const ui = {
  session: element('session'),
  sessionUser: element('session-user'),
  signoutButton: element<HTMLButtonElement>('signout-button'),
  signinSection: element('signin-section'),
  signinForm: element<HTMLFormElement>('signin-form'),
  signinName: element<HTMLInputElement>('signin-name'),
  signinButton: element<HTMLButtonElement>('signin-button'),
  signinError: element('signin-error'),
  uploadSection: element('upload-section'),
  routeSelect: element<HTMLSelectElement>('route-select'),
  routeHint: element('route-hint'),
  dropZone: element('drop-zone'),
  fileInput: element<HTMLInputElement>('file-input'),
  progressRow: element('progress-row'),
  progress: element<HTMLProgressElement>('upload-progress'),
  percent: element('upload-percent'),
  pauseButton: element<HTMLButtonElement>('pause-button'),
  cancelButton: element<HTMLButtonElement>('cancel-button'),
  status: element('upload-status'),
  message: element('upload-message'),
  result: element('upload-result'),
  resultLink: element<HTMLAnchorElement>('upload-link'),
  resultThumb: element<HTMLImageElement>('upload-thumb'),
  error: element('upload-error'),
  errorDetail: element('upload-error-detail'),
  errorCode: element('upload-error-code'),
  filesSection: element('files-section'),
  filesEmpty: element('files-empty'),
  filesError: element('files-error'),
  fileList: element<HTMLUListElement>('file-list'),
  filesMore: element<HTMLButtonElement>('files-more'),
};

/**
 * The API: this page's origin, unless the page names another in <meta name="upfront-api"> (as
 * `upfront site deploy --api <url>` writes it for a page served from a website bucket).
 */
const apiUrl = (document.querySelector<HTMLMetaElement>('meta[name="upfront-api"]')?.content || location.origin).replace(/\/+$/, '');
const client = createClient({ endpoint: apiUrl, token: () => sessionStorage.getItem(TOKEN_KEY) ?? '' });
let routes: UploadRoute[] = [];
let nextPage: string | null = null;
/** The upload in progress: `stop` ends it here only (it can resume later); the task can pause or cancel it. */
let currentUpload: { stop: AbortController; task: UploadTask } | null = null;

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function describeError(error: unknown): { code: string; detail: string } {
  if (error instanceof UpfrontError) return { code: error.code, detail: error.detail };
  return { code: 'unexpected', detail: error instanceof Error ? error.message : String(error) };
}

/** A 401 anywhere means the session token is gone or expired: back to sign-in. */
function handleSessionEnd(error: unknown): boolean {
  if (!(error instanceof UpfrontError) || error.code !== 'unauthorized') return false;
  signOut();
  ui.signinError.textContent = 'Your session has ended. Sign in again.';
  ui.signinError.hidden = false;
  return true;
}

// --- session ---------------------------------------------------------------------------------

async function signIn(user: string): Promise<void> {
  ui.signinError.hidden = true;
  ui.signinButton.disabled = true;
  try {
    const response = await fetch(`${apiUrl}/v1/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user }),
    });
    const body: unknown = await response.json().catch(() => null);
    const token = (body as { token?: unknown } | null)?.token;
    if (!response.ok || typeof token !== 'string') {
      const detail = (body as { detail?: unknown } | null)?.detail;
      throw new Error(typeof detail === 'string' ? detail
        : response.status === 404 ? 'Development sign-in is not enabled on this server.'
        : `Sign-in failed (status ${response.status}).`);
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, user);
    await showSignedIn();
  } catch (error) {
    ui.signinError.textContent = error instanceof TypeError ? 'Could not reach the server. Check your connection and try again.' : describeError(error).detail;
    ui.signinError.hidden = false;
  } finally {
    ui.signinButton.disabled = false;
  }
}

function signOut(): void {
  currentUpload?.stop.abort();
  currentUpload = null;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  ui.session.hidden = true;
  ui.uploadSection.hidden = true;
  ui.filesSection.hidden = true;
  ui.signinSection.hidden = false;
  ui.fileList.replaceChildren();
  resetUploadStatus();
  ui.signinName.focus();
}

async function showSignedIn(): Promise<void> {
  ui.sessionUser.textContent = sessionStorage.getItem(USER_KEY) ?? '';
  ui.session.hidden = false;
  ui.signinSection.hidden = true;
  ui.uploadSection.hidden = false;
  ui.filesSection.hidden = false;
  await Promise.all([loadRoutes(), loadFiles()]);
}

// --- routes ----------------------------------------------------------------------------------

async function loadRoutes(): Promise<void> {
  try {
    routes = await client.listRoutes();
  } catch (error) {
    if (handleSessionEnd(error)) return;
    showUploadError(error);
    return;
  }
  ui.routeSelect.replaceChildren(...routes.map((route) => new Option(route.name, route.name)));
  showRouteHint();
}

function showRouteHint(): void {
  const route = routes.find((candidate) => candidate.name === ui.routeSelect.value);
  if (!route) return;
  const types = route.types.map((type) => type.replace(/^[a-z]+\//, '')).join(', ');
  ui.routeHint.textContent = `${types} · up to ${formatSize(route.maxSize)} · ${route.visibility}`;
  ui.fileInput.accept = route.types.join(',');
}

// --- upload ----------------------------------------------------------------------------------

function resetUploadStatus(): void {
  ui.status.dataset.state = 'idle';
  delete ui.status.dataset.uploadId;
  ui.message.textContent = '';
  ui.result.hidden = true;
  ui.error.hidden = true;
  ui.progressRow.hidden = true;
}

function showProgress(loaded: number, total: number): void {
  const percent = total > 0 ? Math.floor((loaded / total) * 100) : 100;
  ui.progress.value = percent;
  ui.percent.textContent = `${percent}%`;
}

function showPaused(paused: boolean): void {
  ui.pauseButton.dataset.paused = String(paused);
  ui.pauseButton.textContent = paused ? 'Resume' : 'Pause';
  ui.status.dataset.paused = String(paused);
}

function showUploadError(error: unknown): void {
  const { code, detail } = describeError(error);
  ui.status.dataset.state = code === 'aborted' ? 'aborted' : 'error';
  ui.message.textContent = '';
  ui.progressRow.hidden = true;
  ui.errorDetail.textContent = detail;
  ui.errorCode.textContent = code;
  ui.error.hidden = false;
}

function showUploaded(file: UploadedFile): void {
  ui.status.dataset.state = 'success';
  ui.message.textContent = `Uploaded ${file.filename} (${formatSize(file.size)}).`;
  ui.resultLink.href = file.url;
  ui.resultLink.textContent = `Open ${file.filename}`;
  const isImage = file.contentType.startsWith('image/');
  ui.resultThumb.hidden = !isImage;
  if (isImage) ui.resultThumb.src = file.url;
  else ui.resultThumb.removeAttribute('src');
  ui.result.hidden = false;
}

async function uploadFile(file: File): Promise<void> {
  currentUpload?.stop.abort();
  const stop = new AbortController();
  // Only the latest upload may touch the page; one replaced or cut short by sign-out stays quiet.
  const isCurrent = () => currentUpload?.stop === stop;
  resetUploadStatus();
  ui.status.dataset.state = 'uploading';
  ui.message.textContent = `Uploading ${file.name}…`;
  showProgress(0, 1);
  showPaused(false);
  ui.progressRow.hidden = false;
  ui.cancelButton.hidden = false;
  ui.pauseButton.hidden = false;
  const task = client.upload(file, {
    route: ui.routeSelect.value,
    signal: stop.signal,
    onProgress: ({ loaded, total }) => {
      if (!isCurrent()) return;
      // The server's upload id (the same after a reload when the upload resumes).
      ui.status.dataset.uploadId = task.id ?? '';
      showProgress(loaded, total);
    },
  });
  currentUpload = { stop, task };
  try {
    const uploaded = await task;
    if (!isCurrent()) return;
    showUploaded(uploaded);
    await loadFiles();
  } catch (error) {
    if (isCurrent() && !handleSessionEnd(error)) showUploadError(error);
  } finally {
    if (isCurrent()) {
      currentUpload = null;
      ui.cancelButton.hidden = true;
      ui.pauseButton.hidden = true;
      ui.fileInput.value = '';
    }
  }
}

// --- files -----------------------------------------------------------------------------------

function fileItem(file: UploadedFile): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset.fileId = file.id;
  if (file.contentType.startsWith('image/')) {
    const thumb = document.createElement('img');
    thumb.src = file.url;
    thumb.alt = '';
    item.append(thumb);
  }
  const info = document.createElement('span');
  info.className = 'file-info';
  const link = document.createElement('a');
  link.href = file.url;
  link.target = '_blank';
  link.rel = 'noopener';
  link.textContent = file.filename;
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `${formatSize(file.size)} · ${file.contentType} · ${file.visibility} · ${new Date(file.createdAt).toLocaleString()}`;
  info.append(link, meta);
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.textContent = 'Delete';
  remove.setAttribute('aria-label', `Delete ${file.filename}`);
  remove.addEventListener('click', () => void deleteFile(file, item, remove));
  item.append(info, remove);
  return item;
}

async function loadFiles(append = false): Promise<void> {
  ui.filesError.hidden = true;
  try {
    const page = await client.listFiles({ limit: PAGE_SIZE, before: append && nextPage ? nextPage : undefined });
    const items = page.files.map(fileItem);
    if (append) ui.fileList.append(...items);
    else ui.fileList.replaceChildren(...items);
    nextPage = page.next;
  } catch (error) {
    if (handleSessionEnd(error)) return;
    ui.filesError.textContent = describeError(error).detail;
    ui.filesError.hidden = false;
  }
  ui.filesMore.hidden = nextPage === null;
  ui.filesEmpty.hidden = ui.fileList.children.length > 0;
}

async function deleteFile(file: UploadedFile, item: HTMLLIElement, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  ui.filesError.hidden = true;
  try {
    await client.deleteFile(file.id);
    item.remove();
    ui.filesEmpty.hidden = ui.fileList.children.length > 0;
  } catch (error) {
    if (handleSessionEnd(error)) return;
    ui.filesError.textContent = `Could not delete ${file.filename}: ${describeError(error).detail}`;
    ui.filesError.hidden = false;
    button.disabled = false;
  }
}

// --- wiring ----------------------------------------------------------------------------------

ui.signinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn(ui.signinName.value.trim());
});
ui.signoutButton.addEventListener('click', signOut);
ui.routeSelect.addEventListener('change', showRouteHint);
ui.fileInput.addEventListener('change', () => {
  const file = ui.fileInput.files?.[0];
  if (file) void uploadFile(file);
});
ui.cancelButton.addEventListener('click', () => void currentUpload?.task.cancel().catch(showUploadError));
ui.pauseButton.addEventListener('click', () => {
  const paused = ui.pauseButton.dataset.paused !== 'true';
  if (paused) currentUpload?.task.pause();
  else currentUpload?.task.resume();
  showPaused(paused);
});
ui.filesMore.addEventListener('click', () => void loadFiles(true));

ui.dropZone.addEventListener('dragover', (event) => {
  event.preventDefault();
  ui.dropZone.classList.add('dragging');
});
ui.dropZone.addEventListener('dragleave', () => ui.dropZone.classList.remove('dragging'));
ui.dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  ui.dropZone.classList.remove('dragging');
  const file = event.dataTransfer?.files[0];
  if (file) void uploadFile(file);
});

if (sessionStorage.getItem(TOKEN_KEY)) void showSignedIn();
