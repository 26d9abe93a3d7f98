import { randomUUID } from 'node:crypto';
import type { Metadata } from 'next';
import Link from 'next/link';
import { Main } from '@/app/_components/main';
import { pageActor } from '@/lib/auth/request-actor';
import { RegisterForm } from '../_components/address-forms';
import { countryOptions } from '../_lib/address.server';

export const metadata: Metadata = { title: 'Register an address' };

export default async function NewAddressPage() {
  // Reads the session, so the page renders per request (and the form's token is fresh each time).
  await pageActor('address:write', '/addresses/new');
  return (
    <Main className="narrow">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link href="/addresses">Addresses</Link> <span aria-hidden="true">›</span> Register
      </nav>
      <h1>Register an address</h1>
      <p className="lead">
        The address is recorded as its first event. Every later change keeps the full history, so you can always see who
        changed what, when and why.
      </p>
      <RegisterForm token={randomUUID()} countries={countryOptions()} defaultCountry="US" />
    </Main>
  );
}
