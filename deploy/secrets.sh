#!/usr/bin/env bash
# Writes the secrets deploy/compose.yaml reads (once; existing files are kept):
# a random PostgreSQL password, the database URL that uses it, the operator
# token and the master key (32 random bytes, hex). Keep deploy/secrets/ out of
# version control and back up master_key: without it, stored webhook secrets
# cannot be decrypted.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
rand() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
[ -s secrets/postgres_password ] || rand >secrets/postgres_password
[ -s secrets/database_url ] || printf 'postgres://spotlight:%s@postgres:5432/spotlight' "$(cat secrets/postgres_password)" >secrets/database_url
[ -s secrets/operator_token ] || rand >secrets/operator_token
[ -s secrets/master_key ] || rand >secrets/master_key
echo "secrets in $(pwd)/secrets"
