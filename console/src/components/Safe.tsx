/**
 * Every user-supplied string is rendered through {@link Safe}: as React text (never
 * HTML), with hidden and reordering characters shown as markers, isolated with `<bdi>`
 * and clamped when longer than 10,000 characters.
 */
import { useState } from 'react';
import { clamp, segments } from '../lib/text.js';

/** Any JSON value as one line of text. */
export function asText(v: unknown): string {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return '(unreadable)';
  }
}

function Marked({ text }: { readonly text: string }) {
  return (
    <>
      {segments(text).map((s, i) =>
        s.kind === 'text' ? (
          s.text
        ) : (
          <span key={i} className="marker" title={`hidden character ${s.label}`}>
            {`⟨${s.label}⟩`}
          </span>
        ),
      )}
    </>
  );
}

export function Safe({ v }: { readonly v: unknown }) {
  const [all, setAll] = useState(false);
  const text = asText(v);
  const c = clamp(text, all);
  const long = text.length !== c.length || c.clamped || all;
  return (
    <bdi className="user-text">
      <Marked text={c.text} />
      {c.clamped && (
        <span className="muted">{` … (${c.length.toLocaleString('en')} characters in all)`}</span>
      )}
      {long && (
        <button
          type="button"
          className="link-button"
          aria-expanded={all}
          onClick={() => setAll(!all)}
        >
          {all ? 'Show less' : 'Show all'}
        </button>
      )}
    </bdi>
  );
}
