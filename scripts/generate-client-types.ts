/**
 * Writes packages/client/src/api-types.ts: TypeScript types of the API's JSON, generated from the
 * server's schemas (packages/server/src/http/schemas.ts, through the OpenAPI document) so that the
 * client, which has no runtime dependencies, describes the same JSON as the server. A test fails
 * when the file is out of date: run `npm run generate`.
 */
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { openApiDocument } from '../packages/server/src/http/openapi.ts';

export const clientTypesFile = new URL('../packages/client/src/api-types.ts', import.meta.url);

const BANNER = `/**
 * The API's JSON, generated from the server's schemas by scripts/generate-client-types.ts
 * (\`npm run generate\`). Do not edit.
 */`;

export async function clientTypes(): Promise<string> {
  const { components } = openApiDocument({ devIssuer: true }) as { components: { schemas: Record<string, unknown> } };
  const defs = JSON.parse(JSON.stringify(components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/')) as Record<string, JSONSchema>;
  // One root that names every definition, so each becomes an exported interface; the root itself is dropped.
  const root: JSONSchema = {
    title: 'Root',
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.keys(defs).map((name) => [name, { $ref: `#/$defs/${name}` }])),
    $defs: defs,
  };
  const ts = await compile(root, 'Root', {
    bannerComment: '',
    additionalProperties: false,
    style: { singleQuote: true, printWidth: 120 },
  });
  const body = ts
    .replace(/^export interface Root \{[^}]*\}\n/m, '')
    .replace(/\/\*\*\n \* This interface was referenced by `Root`'s JSON-Schema\n \* via the `definition` "\w+".\n \*\/\n/g, '');
  return `${BANNER}\n${body}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeFile(clientTypesFile, await clientTypes());
  console.log(`wrote ${clientTypesFile.pathname}`);
}
