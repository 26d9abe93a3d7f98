'use client';

import { type KeyboardEvent, type RefObject, useEffect, useRef, useState } from 'react';
import type { HistoryMode } from '@/app/_lib/use-history-navigate';
import {
  historyModeForTyping,
  type SearchParamKey,
  searchQueryString,
  TYPED_KEYS,
  type TypedKey,
} from '../_lib/search-query';
import styles from './search.module.css';
import { HIT_LINK } from './search-results';

/** Typing settles for this long before the URL (and so the search) follows. */
export const TYPING_DEBOUNCE_MS = 150;

export const SEARCH_FORM_ID = 'address-search';

type Drafts = Record<TypedKey, string>;

const drafts = (raw: Record<string, string>): Drafts =>
  Object.fromEntries(TYPED_KEYS.map((k) => [k, raw[k] ?? ''])) as Drafts;

/**
 * The text boxes' values while typing. They follow the URL (Back/Forward, a chip removed) except
 * while the user is typing; typing reaches the URL 150 ms after the last keystroke.
 */
export function useTypedDrafts(raw: Record<string, string>, navigate: (href: string, mode: HistoryMode) => void) {
  const [values, setValues] = useState(() => drafts(raw));
  const typing = useRef(false);
  const rawRef = useRef(raw);
  rawRef.current = raw;

  useEffect(() => {
    if (!typing.current) setValues(drafts(raw));
  }, [raw]);

  useEffect(() => {
    if (!typing.current) return;
    const timer = setTimeout(() => {
      typing.current = false;
      const current = rawRef.current;
      navigate(hrefWith(current, values), historyModeForTyping(current, values));
    }, TYPING_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [values, navigate]);

  const type = (key: TypedKey, value: string) => {
    typing.current = true;
    setValues((v) => ({ ...v, [key]: value }));
  };
  /** Writes what was typed to the URL now (Enter, the Search button), as a new history entry. */
  const commit = (changes: Partial<Record<SearchParamKey, string>> = {}) => {
    typing.current = false;
    const next = { ...values, ...changes };
    setValues(drafts(next));
    navigate(hrefWith({ ...rawRef.current, ...changes }, next), 'push');
  };
  return { values, type, commit };
}

/** The page's link with the typed values in place of the URL's, back on page 1. */
function hrefWith(raw: Record<string, string>, typed: Partial<Record<SearchParamKey, string>>): string {
  const s = searchQueryString({ ...raw, ...typed, page: undefined });
  return s ? `/addresses?${s}` : '/addresses';
}

interface SearchBoxProps {
  value: string;
  inputRef: RefObject<HTMLInputElement | null>;
  resultsRef: RefObject<HTMLElement | null>;
  onType: (value: string) => void;
  onClear: () => void;
  busy: boolean;
}

/**
 * The search box and its button: a GET form, so without JavaScript Enter or the button loads
 * `/addresses?q=…` like any form. With it, results follow as you type; ↓ goes to the first result
 * and Escape clears the box.
 */
export function SearchBox({ value, inputRef, resultsRef, onType, onClear, busy }: SearchBoxProps) {
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown') {
      const first = resultsRef.current?.querySelector<HTMLAnchorElement>(HIT_LINK);
      if (first) {
        event.preventDefault();
        first.focus();
      }
    } else if (event.key === 'Escape' && value !== '') {
      // type="search" clears itself on Escape too; the URL has to follow, at once.
      event.preventDefault();
      onClear();
    }
  };
  return (
    <div className={`search-main ${styles.searchRow}`}>
      <label htmlFor="search-q" className="visually-hidden">
        Search
      </label>
      <input
        ref={inputRef}
        id="search-q"
        name="q"
        type="search"
        value={value}
        onChange={(e) => onType(e.target.value)}
        onKeyDown={onKeyDown}
        placeholder="e.g. 12 Main St, Portland or 04101"
        maxLength={200}
        autoComplete="off"
        aria-describedby="search-hint"
      />
      <button type="submit" className="button primary">
        Search
      </button>
      <span className={styles.busy} aria-hidden="true" data-busy={busy ? 'true' : 'false'}>
        Updating…
      </span>
      <span id="search-hint" className="visually-hidden">
        Results update as you type. Down arrow moves to the results, Escape clears the search.
      </span>
    </div>
  );
}
