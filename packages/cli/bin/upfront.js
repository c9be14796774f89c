#!/usr/bin/env node
// The command's entry, kept in git rather than built, so npm links `upfront` when it installs, before
// the first build (`npm start` and `npm test` install, then build). The command is compiled into dist/.
try {
  await import('../dist/bin.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/bin.js')) throw error;
  console.error('upfront: the CLI is not built yet: run `npm run build` (or `npm start`) in the repository first.');
  process.exit(1);
}
