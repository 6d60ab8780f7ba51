// The second step of signing in, for an account with two-factor sign-in: the
// code from an authenticator app, or one of the recovery codes in its place
// (six digits are a code; anything else is taken as a recovery code).
import { useState } from 'preact/hooks';
import type { SecondFactor } from '../api';

export function secondFactor(typed: string): SecondFactor {
  const digits = typed.replace(/\s/g, '');
  return /^[0-9]{6}$/.test(digits) ? { totp_code: digits } : { recovery_code: typed.trim() };
}

/** Asked for after the server answers `two_factor_required`. */
export function SecondFactorField({ onChange }: { onChange: (f: SecondFactor) => void }) {
  const [value, setValue] = useState('');
  return (
    <div class="second-factor">
      <label for="totp-code">Code from your authenticator app</label>
      <input id="totp-code" autoComplete="one-time-code" spellcheck={false} required value={value} aria-describedby="totp-hint"
        onInput={(e) => { const v = (e.target as HTMLInputElement).value; setValue(v); onChange(secondFactor(v)); }} />
      <p id="totp-hint" class="hint">No phone at hand? Enter one of your recovery codes instead.</p>
    </div>
  );
}
