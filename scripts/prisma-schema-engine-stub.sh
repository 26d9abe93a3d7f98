#!/bin/sh
# Stand-in for Prisma's schema engine, which cannot be downloaded here. The CLI only checks that it
# exists before `prisma generate`, which never calls it; migrations are applied by scripts/migrate.ts.
echo "schema engine not available: use npm run db:migrate" >&2
exit 1
