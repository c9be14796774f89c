/**
 * Type test (checked by `npx tsc -p tsconfig.json`, never run): with the app's config type, route names
 * are checked at compile time — every `@ts-expect-error` below must be an error, or tsc fails.
 */
import { UploadDropzone, useUpload, useUploads, type RouteOf } from '@upfront/react';

type Config = typeof import('../../upfront.config.json');

const routes: RouteOf<Config>[] = ['image', 'document'];
// @ts-expect-error "imgae" is not a route of upfront.config.json
const misspelled: RouteOf<Config> = 'imgae';

export function TypedRoutes() {
  useUpload<Config>({ route: 'image' });
  // @ts-expect-error a misspelled route does not compile
  useUpload<Config>({ route: 'imgae' });
  useUploads<Config>({ route: 'document', concurrency: 2 });
  // @ts-expect-error a misspelled route does not compile
  useUploads<Config>({ route: 'documents' });
  const shared = useUploads<Config>({ route: 'image' });
  return (
    <>
      <UploadDropzone<Config> route="image" accept="image/*" />
      {/* @ts-expect-error a misspelled route does not compile */}
      <UploadDropzone<Config> route="imag" />
      <UploadDropzone uploads={shared}>{({ dragging }) => (dragging ? 'Drop them' : 'Choose files')}</UploadDropzone>
      {/* @ts-expect-error a dropzone needs a route or a useUploads() */}
      <UploadDropzone />
      {routes.join() + misspelled}
    </>
  );
}
