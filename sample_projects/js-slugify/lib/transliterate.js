// Latin letters with diacritics become their plain form; a few ligatures are spelled out.
const SPECIAL = new Map([
  ['ß', 'ss'],
  ['æ', 'ae'],
  ['œ', 'oe'],
  ['ø', 'o'],
  ['&', ' and '],
]);

export function transliterate(text) {
  let out = '';
  for (const ch of text.normalize('NFKD')) {
    if (/\p{Mn}/u.test(ch)) continue; // combining accent left over from NFKD
    out += SPECIAL.get(ch.toLowerCase()) ?? ch;
  }
  return out;
}
