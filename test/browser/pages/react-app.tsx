/**
 * The page test/browser/react.test.ts drives: one useUpload() with its own controls, and a useUploads()
 * queue behind an <UploadDropzone>. The token comes in the URL's hash. Every stage the single upload
 * renders is kept in `window.stagesSeen`, so the test can check their order.
 */
import { StrictMode, useEffect, type ChangeEvent } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from '@upfront/client';
import { UploadDropzone, UpfrontProvider, useUpload, useUploads, type UploadStage } from '@upfront/react';

type Config = { routes: { image: unknown } };

const stagesSeen: UploadStage[] = [];
Object.assign(window, { stagesSeen });

function SingleUpload() {
  const upload = useUpload<Config>({ route: 'image' });
  useEffect(() => {
    if (stagesSeen.at(-1) !== upload.state) stagesSeen.push(upload.state);
  }, [upload.state]);
  const choose = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.currentTarget.files?.[0];
    if (file) upload.upload(file);
  };
  return (
    <section id="single" data-state={upload.state} data-paused={upload.paused} data-loaded={upload.progress.loaded} data-upload-id={upload.uploadId ?? ''}>
      <label>
        One file <input id="single-input" type="file" onChange={choose} />
      </label>
      <progress id="single-progress" max={100} value={upload.progress.percent} />
      <button id="single-pause" onClick={upload.pause}>Pause</button>
      <button id="single-resume" onClick={upload.resume}>Resume</button>
      <button id="single-cancel" onClick={() => void upload.cancel()}>Cancel</button>
      <p id="single-error" data-code={upload.error?.code ?? ''}>{upload.error?.detail}</p>
      <p id="single-file" data-id={upload.file?.id ?? ''}>{upload.file?.filename}</p>
    </section>
  );
}

function Queue() {
  const uploads = useUploads<Config>({ route: 'image', concurrency: 2 });
  return (
    <section id="queue">
      <UploadDropzone uploads={uploads} accept="image/*" />
      <ul id="queue-items">
        {uploads.items.map((item) => (
          <li key={item.key} data-name={item.name} data-state={item.state} data-file-id={item.file?.id ?? ''}>
            {item.name} <progress max={item.total} value={item.loaded} />
          </li>
        ))}
      </ul>
      <p id="queue-total" data-done={uploads.total.done} data-loaded={uploads.total.loaded} data-total={uploads.total.total} />
    </section>
  );
}

const client = createClient({ endpoint: location.origin, token: decodeURIComponent(location.hash.slice(1)) });
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <UpfrontProvider client={client}>
      <SingleUpload />
      <Queue />
    </UpfrontProvider>
  </StrictMode>,
);
