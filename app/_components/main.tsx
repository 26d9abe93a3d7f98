import type { ReactNode } from 'react';

/** The id the skip link in app/layout.tsx points at. */
export const MAIN_ID = 'main';

/**
 * A page's main landmark and the skip link's target. `tabIndex={-1}` lets the skip link move
 * focus here (a plain fragment link only scrolls, and the next Tab went on from the header);
 * it is not a Tab stop itself.
 */
export function Main({ className, children }: { className?: string; children: ReactNode }) {
  return (
    <main id={MAIN_ID} tabIndex={-1} className={className}>
      {children}
    </main>
  );
}
