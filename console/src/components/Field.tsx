import { useId } from 'react';

/** A labelled text input with an optional hint, the form's one kind of field. */
export function Field({
  label,
  value,
  onChange,
  hint,
  required,
  ...rest
}: {
  readonly label: string;
  readonly value: string;
  readonly onChange: (v: string) => void;
  readonly hint?: string;
  readonly required?: boolean;
  readonly placeholder?: string;
  readonly inputMode?: 'numeric';
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required === true && <span aria-hidden="true"> *</span>}
      </label>
      <input
        id={id}
        value={value}
        required={required}
        aria-describedby={hint === undefined ? undefined : `${id}-hint`}
        onChange={(e) => onChange(e.target.value)}
        {...rest}
      />
      {hint !== undefined && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
    </div>
  );
}
