import { unknownRoute } from '../_lib/http';

/*
 * Every path under /api that no route file claims (Next would answer with the HTML 404 page).
 * More specific route files always win over this catch-all.
 */
export const GET = unknownRoute;
export const HEAD = unknownRoute;
export const POST = unknownRoute;
export const PUT = unknownRoute;
export const PATCH = unknownRoute;
export const DELETE = unknownRoute;
export const OPTIONS = unknownRoute;
