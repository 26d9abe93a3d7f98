'use client';

import { useState } from 'react';
import { FormMessage, SubmitButton } from '@/app/_components/form-fields';
import type { ConflictField, ConflictInfo, FormState } from '@/app/_lib/form-state';
import { ReasonField } from './fields';

/*
 * Shown in an edit form's place when the form was decided on a version that is no longer current:
 * what others saved since (base → theirs), the operator's own edit (base → mine), merged field by
 * field. Only a field both changed differently needs a choice; one button saves the merged edit
 * against the new version. A repeated conflict brings this screen back with the newer events.
 */

type Pick = 'theirs' | 'mine' | 'other';

interface ConflictScreenProps {
  conflict: ConflictInfo;
  result: FormState;
  /** The form's id prefix (ids stay unique when two forms are on the page). */
  idPrefix: string;
  reasonRequired: boolean;
  pending: boolean;
  /** What the button does, e.g. "Save change"; the version is added. */
  submitLabel: string;
  reloadHref: string;
}

function Value({ value }: { value: string | null }) {
  return value === null ? <span className="empty">not set</span> : <span className="value">{value}</span>;
}

const AUTO_NOTE: Record<Exclude<ConflictField['outcome'], 'conflict'>, string> = {
  unchanged: 'nobody changed it',
  theirs: 'only they changed it: theirs is kept',
  mine: 'only you changed it: yours is applied',
  same: 'you both set it to the same value',
};

export function ConflictScreen(props: ConflictScreenProps) {
  const { conflict, result, idPrefix } = props;
  const [picks, setPicks] = useState<Record<string, Pick>>({});
  const [others, setOthers] = useState<Record<string, string>>({});
  const contested = conflict.fields.filter((f) => f.outcome === 'conflict');
  const undecided = contested.filter((f) => picks[f.field] === undefined);
  const resolved = (f: ConflictField): string => {
    if (f.outcome !== 'conflict') return f.merged ?? '';
    const pick = picks[f.field];
    return (pick === 'theirs' ? f.theirs : pick === 'mine' ? f.mine : (others[f.field] ?? '')) ?? '';
  };
  const touched = conflict.fields.filter((f) => f.outcome !== 'unchanged');

  return (
    <div className="conflict-screen">
      <FormMessage result={result} />
      {/* The command's own inputs, carried over unchanged. */}
      {['corrects', 'version'].map((name) =>
        result.values?.[name] !== undefined ? (
          <input key={name} type="hidden" name={name} value={result.values[name]} />
        ) : null,
      )}
      {/* Only the fields of the operator's own edit go back: the rest is left as it now stands. */}
      {conflict.fields
        .filter((f) => f.outcome === 'mine' || f.outcome === 'same' || f.outcome === 'conflict')
        .map((f) => (
          <input key={f.field} type="hidden" name={f.field} value={resolved(f)} />
        ))}

      <h3>Saved by others since you opened version {conflict.baseVersion}</h3>
      <ol className="conflict-events">
        {conflict.events.map((e) => (
          <li key={e.version}>
            <p>
              <strong>
                Version {e.version} · {e.what}
              </strong>{' '}
              by {e.actor} · {e.recordedAt}
              {e.reason ? <> · “{e.reason}”</> : null}
            </p>
            {e.changes.length > 0 ? (
              <ul className="conflict-diffs">
                {e.changes.map((c) => (
                  <li key={c.field}>
                    {c.label}: <Value value={c.before} /> → <Value value={c.after} />
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        ))}
      </ol>

      {touched.length > 0 ? (
        <>
          <h3>Your edit, merged with theirs</h3>
          <ul className="merge-fields">
            {touched.map((f) =>
              f.outcome === 'conflict' ? (
                <li key={f.field} className="merge-field merge-conflict">
                  <fieldset>
                    <legend>
                      {f.label}: you both changed it (was <Value value={f.base} />
                      ). Which value should be saved?
                    </legend>
                    {(['theirs', 'mine'] as const).map((pick) => (
                      <label key={pick} className="choice">
                        <input
                          type="radio"
                          name={`pick-${f.field}`}
                          value={pick}
                          checked={picks[f.field] === pick}
                          onChange={() => setPicks({ ...picks, [f.field]: pick })}
                        />{' '}
                        {pick === 'theirs' ? 'Theirs' : 'Yours'}:{' '}
                        <Value value={pick === 'theirs' ? f.theirs : f.mine} />
                      </label>
                    ))}
                    <label className="choice">
                      <input
                        type="radio"
                        name={`pick-${f.field}`}
                        value="other"
                        checked={picks[f.field] === 'other'}
                        onChange={() => setPicks({ ...picks, [f.field]: 'other' })}
                      />{' '}
                      Another value
                    </label>
                    {picks[f.field] === 'other' ? (
                      <input
                        type="text"
                        id={`${idPrefix}-other-${f.field}`}
                        aria-label={`Another ${f.label.toLowerCase()}`}
                        value={others[f.field] ?? ''}
                        onChange={(event) => setOthers({ ...others, [f.field]: event.target.value })}
                      />
                    ) : null}
                  </fieldset>
                </li>
              ) : (
                <li key={f.field} className="merge-field">
                  <strong>{f.label}</strong>: <Value value={f.base} /> → <Value value={f.merged} />{' '}
                  <span className="hint">({AUTO_NOTE[f.outcome]})</span>
                </li>
              ),
            )}
          </ul>
        </>
      ) : null}

      <ReasonField
        idPrefix={`${idPrefix}-conflict`}
        result={result}
        required={props.reasonRequired}
        hint="Your reason, kept from the form."
      />
      {undecided.length > 0 ? (
        <p className="hint" id={`${idPrefix}-undecided`}>
          Choose a value for: {undecided.map((f) => f.label).join(', ')}.
        </p>
      ) : null}
      <SubmitButton
        pending={props.pending}
        disabled={undecided.length > 0}
        tone="primary"
        label={`${props.submitLabel} at version ${conflict.currentVersion}`}
        pendingLabel="Saving…"
      />
      <p>
        <a href={props.reloadHref}>Discard my edit and reload the address</a>
      </p>
    </div>
  );
}
