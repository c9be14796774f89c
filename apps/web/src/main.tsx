/**
 * The demo app: sign in, drop many files (a queue with progress, pause, resume, cancel), see them in
 * a gallery with their thumbnails, versions and the user's usage. Served by the API (`upfront dev`)
 * or from a website bucket (`upfront site deploy`), whose <meta> tags name the API.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { readSettings } from './settings.ts';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App settings={readSettings()} />
  </StrictMode>,
);
