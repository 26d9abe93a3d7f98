import os from 'node:os';
import path from 'node:path';

/** The port of the app the end-to-end tier runs (`E2E_PORT`, one per engineer on a shared machine). */
export const E2E_PORT = Number(process.env.E2E_PORT ?? 3100);
/** A throwaway data directory per run, never the `.data/` of `npm start`. */
export const E2E_DATA_DIR = path.join(os.tmpdir(), `address-ledger-e2e-${E2E_PORT}`);
