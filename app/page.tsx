import Link from 'next/link';
import { Main } from '@/app/_components/main';
import { actorCan } from '@/lib/auth/permissions';
import { sessionActor } from '@/lib/auth/request-actor';

export default async function HomePage() {
  const actor = await sessionActor();
  const canWrite = actorCan(actor, 'address:write');
  return (
    <Main className="home">
      <h1>Address Ledger</h1>
      <p className="lead">
        An address register in which every change is kept as an immutable, timestamped event: who changed an address,
        when, why, and what it looked like at any point in the past.
      </p>
      <div className="home-cards">
        <Link href="/addresses" className="home-card">
          <strong>Search addresses</strong>
          <span>Find an address by street, town or postal code; filter by country, region, city and status.</span>
        </Link>
        {canWrite ? (
          <Link href="/addresses/new" className="home-card">
            <strong>Register an address</strong>
            <span>Record a new address; its history starts with this first event.</span>
          </Link>
        ) : null}
      </div>
      <h2>How it works</h2>
      <ul className="plain-list">
        <li>
          <strong>Changes</strong> record that the real world changed (a move, a renamed street).
        </li>
        <li>
          <strong>Corrections</strong> fix what was recorded wrongly; they name the version they correct and always give
          a reason. Nothing is ever overwritten or deleted.
        </li>
        <li>
          <strong>History</strong> shows every event of an address with its actor, time and reason, and the address as
          it was at any version or moment.
        </li>
        <li>
          Search results come from a read model that may briefly lag behind; an address’s own page is always exact.
        </li>
      </ul>
    </Main>
  );
}
