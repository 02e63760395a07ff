#!/usr/bin/env bash
# Restores the healthy state: rewrites every file break.sh edits with its original content.
set -euo pipefail
cd "$(dirname "$0")"
cat > 'lib/index.js' <<'__HEALTHY__'
import { transliterate } from './transliterate.js';

const DEFAULTS = { separator: '-', maxLength: 60 };

/**
 * "Héllo, Wörld & Friends!" -> "hello-world-and-friends"
 * Runs of anything but letters and digits become one separator; the result is cut at
 * maxLength without leaving a dangling separator.
 */
export function slugify(title, options = {}) {
  const { separator, maxLength } = { ...DEFAULTS, ...options };
  let slug = transliterate(String(title))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, separator);
  slug = trimSeparators(slug, separator);
  if (slug.length > maxLength) {
    slug = trimSeparators(slug.slice(0, maxLength), separator);
  }
  return slug;
}

function trimSeparators(slug, separator) {
  while (slug.startsWith(separator)) slug = slug.slice(separator.length);
  while (slug.endsWith(separator)) slug = slug.slice(0, -separator.length);
  return slug;
}

/** Appends -2, -3, ... until the slug is not in `taken`. */
export function uniqueSlug(title, taken, options = {}) {
  const base = slugify(title, options);
  let candidate = base;
  for (let n = 2; taken.has(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}
__HEALTHY__
