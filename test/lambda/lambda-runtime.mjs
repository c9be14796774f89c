/**
 * A stand-in for Lambda's Node.js runtime, for the tests: one warm container. Imports the unzipped
 * bundle's handler (argv[2]) and nothing else of the repository, then invokes it with each event the
 * parent sends over IPC ({id, event}), one at a time as Lambda does, answering {id, result} or
 * {id, error}. Plain JavaScript, run by plain node: no TypeScript loader, no source conditions.
 */
import { pathToFileURL } from 'node:url';

const { handler } = await import(pathToFileURL(process.argv[2]).href);
let queue = Promise.resolve();
process.on('message', ({ id, event }) => {
  queue = queue.then(async () => {
    try {
      process.send({ id, result: await handler(event, {}) });
    } catch (error) {
      process.send({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
});
process.send({ ready: true });
