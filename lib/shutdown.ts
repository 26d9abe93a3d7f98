/*
 * Work that must be finished before a process exits on a clean shutdown (SIGTERM/SIGINT), such
 * as the access trail's queued entries (lib/access-log.ts). The web server of `npm start`
 * (scripts/web-server.ts) runs these after its last request. The hooks live on globalThis: that
 * script and the app's compiled server code each load their own copy of this module.
 */

type Hook = () => Promise<void>;
const globalForShutdown = globalThis as unknown as { __ledgerShutdownHooks?: Set<Hook> };

export function onShutdown(hook: Hook): void {
  globalForShutdown.__ledgerShutdownHooks ??= new Set();
  globalForShutdown.__ledgerShutdownHooks.add(hook);
}

/** Runs every hook; one that fails does not keep the others from running. */
export async function runShutdownHooks(): Promise<void> {
  await Promise.allSettled([...(globalForShutdown.__ledgerShutdownHooks ?? [])].map((hook) => hook()));
}
