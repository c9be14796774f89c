import { createContext, useContext, type ReactNode } from 'react';
import type { UpfrontClient } from '@upfront/client';

const ClientContext = createContext<UpfrontClient | undefined>(undefined);

/** Gives the hooks and the dropzone below it their client (from `createClient`). */
export function UpfrontProvider({ client, children }: { client: UpfrontClient; children?: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

/** The client given, or the provider's. */
export function useUpfrontClient(client?: UpfrontClient): UpfrontClient {
  const provided = useContext(ClientContext);
  const found = client ?? provided;
  if (!found) throw new Error('No Upfront client: wrap the component in <UpfrontProvider client={createClient(…)}>, or pass `client`.');
  return found;
}
