/**
 * Phones and emails as a roster holds them (issue 14): a county office types phones with
 * spaces, dashes or a +86 prefix, and Excel stores them as numbers. Stored and compared as
 * 11 digits (mainland mobile numbers, the only kind Lark's contact API resolves for a
 * Chinese tenant) and emails in lower case.
 */

/** 11-digit mainland mobile number, or null when `raw` is not one. */
export function normalizePhone(raw: string): string | null {
  let t = raw.normalize('NFKC').trim();
  // Excel numbers read as text: 13912345678.0 or 1.3912345678E10.
  if (/^\d+(\.0+)?$/.test(t)) t = t.replace(/\.0+$/, '');
  else if (/^\d(\.\d+)?e\+?\d+$/i.test(t)) {
    const n = Number(t);
    if (Number.isSafeInteger(n)) t = String(n);
  }
  t = t.replace(/[\s\-–—()（）.]/g, '');
  t = t.replace(/^(\+?0{0,2}86)(?=1\d{10}$)/, '');
  return /^1[3-9]\d{9}$/.test(t) ? t : null;
}

/** Lower-case email, or null when `raw` is not one. */
export function normalizeEmail(raw: string): string | null {
  const t = raw.normalize('NFKC').trim().toLowerCase();
  if (t.length > 254) return null;
  return /^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(t) ? t : null;
}

/** 139****5678: phones in text output and logs. */
export function maskPhone(phone: string | null): string {
  if (!phone) return '';
  return phone.length === 11 ? `${phone.slice(0, 3)}****${phone.slice(7)}` : '****';
}

/** z***@example.cn: emails in text output. */
export function maskEmail(email: string | null): string {
  if (!email) return '';
  const at = email.indexOf('@');
  return at > 0 ? `${email[0]}***${email.slice(at)}` : '***';
}
