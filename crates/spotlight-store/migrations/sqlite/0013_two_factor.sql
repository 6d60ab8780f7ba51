-- Two-factor sign-in (TOTP, RFC 6238) for password accounts. The shared
-- secret is sealed with the master key (it must be read back to check codes);
-- last_step is the newest time step a code was accepted for, so that a code is
-- never accepted twice. Recovery codes are stored as their hashes, used once.
CREATE TABLE account_two_factor (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    confirmed_at INTEGER,
    last_step INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE account_recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (account_id, code_hash)
);
