/**
 * A drop target with a real button that opens the file picker (Enter or Space, like any button), and a
 * live region that says how the uploads stand. Unstyled: class names and data attributes to style,
 * or import '@upfront/react/styles.css'.
 */
import { useId, useRef, useState, type DragEvent, type ReactNode } from 'react';
import type { RegisteredConfig, RouteOf } from './routes.ts';
import { useUploads, type Uploads } from './use-uploads.ts';

export interface DropzoneRenderState {
  /** Files are being dragged over the zone. */
  dragging: boolean;
  uploads: Uploads;
}

interface CommonProps {
  /** Allow several files at once (default true). */
  multiple?: boolean;
  /** The picker's filter, as on <input type=file>, e.g. "image/*". */
  accept?: string;
  disabled?: boolean;
  className?: string;
  /** The button's content (default "Choose files or drop them here"), or a function of the zone's state. */
  children?: ReactNode | ((state: DropzoneRenderState) => ReactNode);
}

export type UploadDropzoneProps<C = RegisteredConfig> = CommonProps &
  (
    | { /** Upload to this route with a queue of the dropzone's own. */ route: RouteOf<C>; uploads?: undefined }
    | { /** A `useUploads()` of the app's, e.g. shown in a list elsewhere. */ uploads: Uploads; route?: undefined }
  );

export function UploadDropzone<C = RegisteredConfig>(props: UploadDropzoneProps<C>) {
  const { route, uploads, ...view } = props;
  // The app's queue needs no provider; a queue of the dropzone's own takes the provider's client.
  return uploads ? <Dropzone {...view} uploads={uploads} /> : <OwnQueueDropzone {...view} route={route as string} />;
}

function OwnQueueDropzone({ route, ...view }: CommonProps & { route: string }) {
  return <Dropzone {...view} uploads={useUploads<{ routes: Record<string, unknown> }>({ route })} />;
}

function Dropzone({ multiple = true, accept, disabled = false, className, children, uploads }: CommonProps & { uploads: Uploads }) {
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const statusId = useId();

  const add = (files: FileList | null) => {
    if (!files?.length || disabled) return;
    uploads.add(multiple ? Array.from(files) : [files[0]!]);
  };
  const over = (event: DragEvent) => {
    if (disabled) return;
    event.preventDefault();
    setDragging(true);
  };
  const leave = (event: DragEvent) => {
    if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
  };
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    add(event.dataTransfer.files);
  };

  return (
    <div
      className={className ? `upfront-dropzone ${className}` : 'upfront-dropzone'}
      data-dragging={dragging || undefined}
      data-disabled={disabled || undefined}
      onDragOver={over}
      onDragLeave={leave}
      onDrop={drop}
    >
      <input
        ref={input}
        type="file"
        hidden
        tabIndex={-1}
        multiple={multiple}
        accept={accept}
        disabled={disabled}
        onChange={(event) => {
          add(event.currentTarget.files);
          event.currentTarget.value = ''; // the same file can be chosen again
        }}
      />
      <button type="button" className="upfront-dropzone-button" disabled={disabled} aria-describedby={statusId} onClick={() => input.current?.click()}>
        {typeof children === 'function' ? children({ dragging, uploads }) : (children ?? 'Choose files or drop them here')}
      </button>
      <p id={statusId} className="upfront-dropzone-status" role="status" aria-live="polite">
        {uploads.status}
      </p>
    </div>
  );
}
