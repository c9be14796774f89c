/**
 * One Lambda cold start, in a fresh process: imports the bundled handler (argv[2]) and invokes it once
 * with the event in argv[3] (a JSON file), then tells the parent over IPC how long the import and the
 * first invocation took, and the answer's status. Plain JavaScript: nothing loads but the bundle.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const event = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const started = performance.now();
const { handler } = await import(pathToFileURL(process.argv[2]).href);
const imported = performance.now();
const result = await handler(event, {});
const answered = performance.now();
process.send({ importMs: imported - started, firstInvokeMs: answered - imported, coldMs: answered - started, sinceSpawnMs: answered, statusCode: result.statusCode, body: result.body }, () => process.exit(0));
