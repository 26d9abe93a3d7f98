-- Accounts, browser sessions, API tokens and the sign-in rate limiter (issue 4).
-- gen_random_uuid() is built into PostgreSQL 13+, so no extension is needed.

CREATE TABLE "users" (
  "id"            UUID           NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  -- Stored lower-cased and trimmed so "A@B.c" and "a@b.c" cannot become two accounts.
  "email"         TEXT           NOT NULL,
  "name"          TEXT           NOT NULL,
  "role"          TEXT           NOT NULL CHECK ("role" IN ('operator', 'auditor', 'admin')),
  -- An argon2id PHC string; the clear password never reaches the database.
  "password_hash" TEXT           NOT NULL CHECK ("password_hash" LIKE '$argon2id$%'),
  -- Set when an admin disables the account; a disabled user is refused on the next request.
  "disabled_at"   TIMESTAMPTZ(6),
  "created_at"    TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "updated_at"    TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");

-- Server-side sessions: the sealed cookie holds a random id whose SHA-256 is the key here, so
-- sign-out and disabling a user end a session at once, and a database leak yields no usable cookie.
CREATE TABLE "sessions" (
  "id_hash"      TEXT           NOT NULL PRIMARY KEY,
  "user_id"      UUID           NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
  "created_at"   TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "expires_at"   TIMESTAMPTZ(6) NOT NULL,
  "last_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);
CREATE INDEX "sessions_user_id_idx" ON "sessions" ("user_id");

-- Integration tokens: only the SHA-256 of the token is kept (it is 256 bits of randomness, so a
-- fast hash is enough); `prefix` lets people recognise a token without it being usable.
CREATE TABLE "api_tokens" (
  "id"           UUID           NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  "name"         TEXT           NOT NULL,
  "role"         TEXT           NOT NULL CHECK ("role" IN ('operator', 'auditor', 'admin')),
  "token_hash"   TEXT           NOT NULL,
  "prefix"       TEXT           NOT NULL,
  -- NULL when created from the command line (npm run admin).
  "created_by"   UUID           REFERENCES "users" ("id") ON DELETE SET NULL,
  "created_at"   TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "last_used_at" TIMESTAMPTZ(6),
  "revoked_at"   TIMESTAMPTZ(6)
);
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens" ("token_hash");
CREATE INDEX "api_tokens_name_idx" ON "api_tokens" ("name");

-- Secrets the app generates for itself on first use (the session cookie key when SESSION_SECRET
-- is not set), so a fresh clone works without setup and every instance agrees on them.
CREATE TABLE "app_secrets" (
  "name"       TEXT           NOT NULL PRIMARY KEY,
  "value"      TEXT           NOT NULL,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);

-- rate-limiter-flexible's RateLimiterPrisma store (the layout it expects: key, points, expire).
-- Keys are SHA-256 hashes, so no e-mail address or IP address is stored.
CREATE TABLE "sign_in_limits" (
  "key"    TEXT           NOT NULL PRIMARY KEY,
  "points" INTEGER        NOT NULL DEFAULT 0,
  "expire" TIMESTAMPTZ(6)
);
