/**
 * The client's types of the API's JSON are generated from the server's schemas; this fails when
 * someone changed a schema (or the generated file) without regenerating: `npm run generate`.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { clientTypes, clientTypesFile } from '../../scripts/generate-client-types.ts';

test('packages/client/src/api-types.ts is what the server\'s schemas generate', async () => {
  const committed = await readFile(clientTypesFile, 'utf8');
  assert.equal(committed, await clientTypes(), 'out of date: run `npm run generate` and commit the result');
  assert.match(committed, /export interface File \{/);
  assert.match(committed, /export interface Problem \{/);
});
