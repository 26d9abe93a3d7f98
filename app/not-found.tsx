import Link from 'next/link';
import { Main } from '@/app/_components/main';

export default function NotFound() {
  return (
    <Main>
      <h1>Not found</h1>
      <p className="lead">
        There is nothing at this address. If you followed a link to an address record, its id may be mistyped.
      </p>
      <p>
        <Link href="/addresses">Search addresses</Link>
      </p>
    </Main>
  );
}
